package inbox

import (
	"hash/maphash"
	"sync"
)

// recentIDs remembers the ids of the last activities known to be stored, so
// that a replayed delivery is answered without verifying its signature: a
// replay changes nothing, so a forged one gains nothing. Ids are kept as
// 64-bit hashes under a random seed (a collision only acknowledges a request
// that is then not stored) and the oldest is forgotten first, so memory stays
// at about 24 bytes per id. It is safe for concurrent use.
type recentIDs struct {
	seed maphash.Seed

	mu   sync.Mutex
	set  map[uint64]struct{}
	ring []uint64 // insertion order; ring[next] is the oldest once full
	next int
}

func newRecentIDs(capacity int) *recentIDs {
	return &recentIDs{seed: maphash.MakeSeed(), set: make(map[uint64]struct{}), ring: make([]uint64, 0, capacity)}
}

// has reports whether id was added and not yet forgotten.
func (s *recentIDs) has(id string) bool {
	h := maphash.String(s.seed, id)
	s.mu.Lock()
	_, ok := s.set[h]
	s.mu.Unlock()
	return ok
}

// add remembers id, forgetting the oldest id when full. Call it only once
// the activity is committed.
func (s *recentIDs) add(id string) {
	h := maphash.String(s.seed, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[h]; ok {
		return
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, h)
	} else {
		delete(s.set, s.ring[s.next])
		s.ring[s.next] = h
		s.next = (s.next + 1) % len(s.ring)
	}
	s.set[h] = struct{}{}
}
