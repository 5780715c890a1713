package federation

import (
	"strings"
	"sync"
	"time"
)

// DocCache keeps the rendered actor documents and WebFinger answers of
// local actors for a short time. Peers repeat these GETs more than any
// others (a server that sees a post fetches its author, a follow starts with
// WebFinger), and each one otherwise reads the user's row from PostgreSQL
// and encodes keys and JSON again; with the cache most of them are a map
// lookup, which is what lets an instance answer ≥ 20,000 of them a second.
//
// An entry lives for TTL, so a change of profile or keys shows within TTL;
// call Forget after such a change to show it at once. Only found actors are
// kept: a user who has just signed up is never answered 404 from the cache.
// At most Max entries are kept; when the cache is full, expired entries are
// dropped, and if none are, all are, so memory stays bounded whatever names
// are asked for.
//
// A DocCache is safe for concurrent use. A nil *DocCache caches nothing.
type DocCache struct {
	ttl time.Duration
	max int
	// NowFunc returns the current time (default time.Now).
	NowFunc func() time.Time

	mu   sync.RWMutex
	docs map[docKey]cachedDoc
}

// docKind says which document of an actor is cached.
type docKind uint8

const (
	docActor docKind = iota
	docWebFinger
	docKinds
)

type docKey struct {
	kind docKind
	name string // lower-cased handle; "" for the instance actor
}

type cachedDoc struct {
	body    []byte
	expires time.Time
}

// NewDocCache returns a cache keeping each document for ttl (5 s when 0)
// and at most max documents (4096 when 0, about 10 MB of actor documents).
func NewDocCache(ttl time.Duration, max int) *DocCache {
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	if max <= 0 {
		max = 4096
	}
	return &DocCache{ttl: ttl, max: max, docs: make(map[docKey]cachedDoc)}
}

func (c *DocCache) now() time.Time {
	if c.NowFunc != nil {
		return c.NowFunc()
	}
	return time.Now()
}

// get returns the cached document, if one is fresh. The caller must not
// modify it.
func (c *DocCache) get(kind docKind, name string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	d, ok := c.docs[docKey{kind, strings.ToLower(name)}]
	c.mu.RUnlock()
	if !ok || !c.now().Before(d.expires) {
		return nil, false
	}
	return d.body, true
}

// put keeps body, which must not be modified afterwards.
func (c *DocCache) put(kind docKind, name string, body []byte) {
	if c == nil {
		return
	}
	now := c.now()
	k := docKey{kind, strings.ToLower(name)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.docs[k]; !ok && len(c.docs) >= c.max {
		for k, d := range c.docs {
			if !now.Before(d.expires) {
				delete(c.docs, k)
			}
		}
		if len(c.docs) >= c.max {
			clear(c.docs)
		}
	}
	c.docs[k] = cachedDoc{body: body, expires: now.Add(c.ttl)}
}

// Forget drops every cached document of the local actor name ("" for the
// instance actor), so that the next GET renders it afresh.
func (c *DocCache) Forget(name string) {
	if c == nil {
		return
	}
	name = strings.ToLower(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	for kind := range docKinds {
		delete(c.docs, docKey{kind, name})
	}
}
