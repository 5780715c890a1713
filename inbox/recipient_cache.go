package inbox

import (
	"sync"
	"time"
)

// recipientTTL is how long a local recipient found to exist is taken as
// existing without asking the database again. Only existence is kept, and
// only while it lasts: an activity accepted for a course deleted within that
// window is stored and then, when applied, finds no course and is dropped,
// as one accepted just before the deletion would be.
const recipientTTL = 10 * time.Second

// recipientCache remembers which per-actor inboxes (a course's, a user's)
// exist, so that the inbox does not pay a database round trip per request
// to learn what it learnt a moment ago. It holds at most one entry per local
// actor that exists (misses are never kept, so unknown names cannot grow
// it). It is safe for concurrent use.
type recipientCache struct {
	mu   sync.Mutex
	seen map[string]time.Time // "course SLUG" or "user NAME" → when found
}

func newRecipientCache() *recipientCache {
	return &recipientCache{seen: map[string]time.Time{}}
}

// known reports whether key was found to exist less than recipientTTL ago.
func (c *recipientCache) known(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.seen[key]
	if ok && time.Since(at) >= recipientTTL {
		delete(c.seen, key)
		return false
	}
	return ok
}

// found records that key exists now.
func (c *recipientCache) found(key string) {
	c.mu.Lock()
	c.seen[key] = time.Now()
	c.mu.Unlock()
}
