package credential

import (
	"crypto/sha256"
	"sync"
	"time"
)

// maxCachedLists bounds a StatusListCache; past it the cache starts again.
const maxCachedLists = 256

type verifiedList struct {
	issuer                string
	validFrom, validUntil time.Time
	bits                  *StatusList
}

// StatusListCache remembers status list credentials whose format, key and
// proof verified, keyed by URL and the SHA-256 of their bytes, so a changed
// list (a revocation) is always checked afresh. It is safe for concurrent
// use; a nil cache remembers nothing.
type StatusListCache struct {
	mu    sync.Mutex
	lists map[[32]byte]verifiedList
}

// NewStatusListCache returns an empty cache.
func NewStatusListCache() *StatusListCache {
	return &StatusListCache{lists: make(map[[32]byte]verifiedList)}
}

func listKey(url string, body []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(url))
	h.Write([]byte{0})
	h.Write(body)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (c *StatusListCache) get(url string, body []byte) (verifiedList, bool) {
	if c == nil {
		return verifiedList{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.lists[listKey(url, body)]
	return l, ok
}

func (c *StatusListCache) put(url string, body []byte, l verifiedList) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lists) >= maxCachedLists {
		c.lists = make(map[[32]byte]verifiedList)
	}
	c.lists[listKey(url, body)] = l
}
