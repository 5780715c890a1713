package federation

import (
	"sync"
	"time"
)

// keyCache remembers, in memory, the keys proven to belong to their actors,
// the key ids that could not be resolved (so that a peer repeating an
// unresolvable keyId costs one fetch per interval, not one per request),
// and when each key was last fetched (so that bad signatures refetch a key
// at most once per interval). Each map is bounded: past its size it starts
// afresh, which costs refetches, never correctness.
type keyCache struct {
	now         func() time.Time
	negativeTTL time.Duration
	refetchGap  time.Duration
	max         int

	mu      sync.Mutex
	good    map[string]PublicKey
	bad     map[string]time.Time // until when
	fetched map[string]time.Time
}

func newKeyCache(now func() time.Time, negativeTTL, refetchGap time.Duration, max int) *keyCache {
	return &keyCache{
		now: now, negativeTTL: negativeTTL, refetchGap: refetchGap, max: max,
		good: map[string]PublicKey{}, bad: map[string]time.Time{}, fetched: map[string]time.Time{},
	}
}

// get returns a proven key.
func (c *keyCache) get(keyID string) (PublicKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.good[keyID]
	return k, ok
}

// failed reports whether keyID was unresolvable within the negative TTL.
func (c *keyCache) failed(keyID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.bad[keyID]
	if ok && c.now().After(until) {
		delete(c.bad, keyID)
		return false
	}
	return ok
}

// mayFetch reports whether keyID was last fetched longer ago than the
// refetch gap.
func (c *keyCache) mayFetch(keyID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.fetched[keyID]
	return !ok || c.now().Sub(t) >= c.refetchGap
}

// fetching records that keyID is being fetched now.
func (c *keyCache) fetching(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.fetched) >= c.max {
		c.fetched = map[string]time.Time{}
	}
	c.fetched[keyID] = c.now()
}

func (c *keyCache) remember(k PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.good) >= c.max {
		c.good = map[string]PublicKey{}
	}
	c.good[k.ID] = k
	delete(c.bad, k.ID)
}

func (c *keyCache) fail(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) >= c.max {
		c.bad = map[string]time.Time{}
	}
	c.bad[keyID] = c.now().Add(c.negativeTTL)
}
