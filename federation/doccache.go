package federation

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/colearn/colearn/courses"
)

// DocCache keeps rendered public documents and pages (actor documents,
// collections, WebFinger and NodeInfo answers, posts, the HTML pages
// anonymous visitors see) in memory, each rendered once per change: an
// entry is tagged with the scopes it shows (courses.Scope) and is served
// until one of them changes, never dropped by time alone.
//
// How a change reaches the cache, and why: the change's transaction calls
// courses.Store.Changed, which sends a PostgreSQL NOTIFY on
// courses.ChangeChannel; Listen receives it in every colearn process that
// shares the database (serve, and any number of workers applying remote
// activities) and drops what shows those scopes. We chose LISTEN/NOTIFY over
// a version column checked on every request because the check would cost a
// database round trip per hit, which is most of what an uncached GET costs,
// while a notice costs nothing until something changes. NOTIFY is
// transactional (sent on commit, never for a rolled-back change), so the
// cache can only be stale between a commit and the notice's arrival:
//
//   - In the process that made the change there is no such gap: Changed
//     tells Changing the scopes before the commit, and until the notice
//     comes back those scopes are rendered from the database and not kept.
//   - In other processes the gap is the notice's delivery, a few
//     milliseconds; nothing is served stale once it has arrived.
//   - A notice is lost only with the listening connection. So on every
//     (re)connection the whole cache is dropped, and while no connection
//     listens nothing is served from the cache (every request renders).
//
// Concurrent first requests for one document (the stampede of link
// previews a new lesson causes) share one render. A render that began
// before a change of its scopes is never kept, and a request that arrives
// after a change never shares a render that began before it.
//
// At most max entries and maxBytes of bodies are kept (a document larger
// than maxDocBytes is served but not kept); when the cache is full, stale
// entries are dropped, and if that is not enough, all are. A DocCache is
// safe for concurrent use.
// A nil *DocCache caches nothing: every Get renders.
type DocCache struct {
	max int
	// NowFunc returns the current time (default time.Now); it decides only
	// when a pending change whose notice never came is given up.
	NowFunc func() time.Time

	mu        sync.RWMutex
	docs      map[string]cachedDoc
	bytes     int                      // of the kept bodies
	seq       uint64                   // bumped by every invalidation
	clearedAt uint64                   // seq of the last drop of everything
	changedAt map[courses.Scope]uint64 // seq of each scope's last change
	// pending holds the scopes this process is changing in open
	// transactions: scope → notice token → when to stop waiting for it.
	pending   map[courses.Scope]map[string]time.Time
	npending  atomic.Int64
	listening bool

	flights singleflight.Group
}

// Bounds on the memory the cache holds.
const (
	maxBytes    = 64 << 20
	maxDocBytes = 2 << 20
)

// pendingWait is how long a change announced by Changing is waited for.
// Its transaction has rolled back or is very slow if its notice has not
// come by then; meanwhile the scope was served from the database.
const pendingWait = 30 * time.Second

// Doc is one rendered document or page.
type Doc struct {
	Body        []byte
	ContentType string
	// Status is the response status: 0 means 200 (410 for tombstones).
	Status int
	// ETag is set by the cache from the body (a strong validator).
	ETag string
	// LastModified, when not zero, is sent as Last-Modified.
	LastModified time.Time

	htmlURL string // where a post's browsers are sent
}

type cachedDoc struct {
	doc    Doc
	scopes []courses.Scope
	seq    uint64 // DocCache.seq when its render began
}

// RenderFunc renders a document and names the scopes it shows. An error
// (such as courses.ErrNotFound) is returned to the caller and nothing is
// kept, so an actor created a moment later is never answered 404 from the
// cache.
type RenderFunc func(ctx context.Context) (Doc, []courses.Scope, error)

// NewDocCache returns a cache of at most max documents (4096 when 0, some
// tens of MB of pages). It serves nothing from memory until Listen is
// connected.
func NewDocCache(max int) *DocCache {
	if max <= 0 {
		max = 4096
	}
	return &DocCache{
		max:       max,
		docs:      make(map[string]cachedDoc),
		changedAt: make(map[courses.Scope]uint64),
		pending:   make(map[courses.Scope]map[string]time.Time),
	}
}

func (c *DocCache) now() time.Time {
	if c.NowFunc != nil {
		return c.NowFunc()
	}
	return time.Now()
}

// Get returns the document key, from memory while none of its scopes has
// changed since it was rendered, else from render (once for all concurrent
// callers). Keys are the caller's to choose; they must name one document
// (the URL path and whatever of the request changes the answer).
func (c *DocCache) Get(ctx context.Context, key string, render RenderFunc) (Doc, error) {
	if c == nil {
		d, _, err := render(ctx)
		return withETag(d), err
	}
	c.mu.RLock()
	e, known := c.docs[key]
	listening, seq := c.listening, c.seq
	hit, pending := false, false
	if known {
		pending = c.pendingLocked(e.scopes)
		hit = listening && !pending && c.freshLocked(e.scopes, e.seq)
	} else {
		// Which scopes it shows is known only once rendered.
		pending = c.npending.Load() > 0
	}
	c.mu.RUnlock()
	if hit {
		return e.doc, nil
	}
	if !listening || pending {
		// A render shared with callers that came before this process's
		// change committed could be stale for those that come after.
		d, scopes, err := render(ctx)
		if err == nil {
			d = withETag(d)
			c.put(key, cachedDoc{doc: d, scopes: scopes, seq: seq})
		}
		return d, err
	}
	// Callers arriving after a change (seq moved) start a render of their own.
	v, err, _ := c.flights.Do(key+"\x00"+strconv.FormatUint(seq, 10), func() (any, error) {
		d, scopes, err := render(context.WithoutCancel(ctx))
		if err != nil {
			return Doc{}, err
		}
		d = withETag(d)
		c.put(key, cachedDoc{doc: d, scopes: scopes, seq: seq})
		return d, nil
	})
	if err != nil {
		return Doc{}, err
	}
	return v.(Doc), nil
}

// freshLocked reports whether something rendered at seq showing scopes
// has not changed since. c.mu must be held.
func (c *DocCache) freshLocked(scopes []courses.Scope, seq uint64) bool {
	if seq < c.clearedAt {
		return false
	}
	for _, s := range scopes {
		if c.changedAt[s] > seq {
			return false
		}
	}
	return true
}

// pendingLocked reports whether this process is changing one of scopes in
// a transaction whose notice has not come yet. c.mu must be held.
func (c *DocCache) pendingLocked(scopes []courses.Scope) bool {
	if c.npending.Load() == 0 {
		return false
	}
	now := c.now()
	for _, s := range scopes {
		for _, until := range c.pending[s] {
			if now.Before(until) {
				return true
			}
		}
	}
	return false
}

func (c *DocCache) put(key string, e cachedDoc) {
	if len(e.doc.Body) > maxDocBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.listening || !c.freshLocked(e.scopes, e.seq) || c.pendingLocked(e.scopes) {
		return
	}
	if old, ok := c.docs[key]; ok {
		c.bytes -= len(old.doc.Body)
		delete(c.docs, key)
	}
	if len(c.docs) >= c.max || c.bytes+len(e.doc.Body) > maxBytes {
		for k, d := range c.docs {
			if !c.freshLocked(d.scopes, d.seq) {
				c.bytes -= len(d.doc.Body)
				delete(c.docs, k)
			}
		}
		if len(c.docs) >= c.max || c.bytes+len(e.doc.Body) > maxBytes {
			clear(c.docs)
			c.bytes = 0
		}
	}
	c.docs[key] = e
	c.bytes += len(e.doc.Body)
}

// Changing is told (by courses.Store.ChangingFunc) that a transaction of
// this process is about to change scopes and that its notice will carry
// token. Until that notice arrives (or pendingWait has passed), documents
// showing those scopes are rendered afresh and not kept.
func (c *DocCache) Changing(token string, scopes []courses.Scope) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	until := c.now().Add(pendingWait)
	for _, s := range scopes {
		m := c.pending[s]
		if m == nil {
			m = make(map[string]time.Time)
			c.pending[s] = m
		}
		if _, ok := m[token]; !ok {
			c.npending.Add(1)
		}
		m[token] = until
	}
	c.dropExpiredLocked()
}

// Invalidate drops every document showing one of scopes, and ends the
// wait for the change whose notice carried token ("" for none). Listen
// calls it for every notice; call it directly only for changes that do not
// go through courses.Store.Changed and in a process alone on its database.
func (c *DocCache) Invalidate(token string, scopes ...courses.Scope) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	for _, s := range scopes {
		c.changedAt[s] = c.seq
		if m := c.pending[s]; m != nil {
			if _, ok := m[token]; ok {
				delete(m, token)
				c.npending.Add(-1)
			}
			if len(m) == 0 {
				delete(c.pending, s)
			}
		}
	}
	c.dropExpiredLocked()
}

func (c *DocCache) dropExpiredLocked() {
	if c.npending.Load() == 0 {
		return
	}
	now := c.now()
	for s, m := range c.pending {
		for tok, until := range m {
			if !now.Before(until) {
				delete(m, tok)
				c.npending.Add(-1)
			}
		}
		if len(m) == 0 {
			delete(c.pending, s)
		}
	}
}

// setListening drops everything (notices may have been missed) and says
// whether a connection now listens.
func (c *DocCache) setListening(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.clearedAt = c.seq
	clear(c.docs)
	c.bytes = 0
	c.listening = on
}

// Pending is how many changes this process has announced (Changing) whose
// notice has not come back yet; while it is above zero, what they change is
// rendered from the database.
func (c *DocCache) Pending() int {
	if c == nil {
		return 0
	}
	return int(c.npending.Load())
}

// Listening reports whether changes are being received, that is whether
// documents are served from memory.
func (c *DocCache) Listening() bool {
	if c == nil {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.listening
}

// withETag sets d's ETag from its body.
func withETag(d Doc) Doc {
	if d.ETag == "" && d.Body != nil {
		sum := sha256.Sum256(d.Body)
		d.ETag = `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	}
	return d
}
