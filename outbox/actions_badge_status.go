package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/federation/credential"
)

// statusListCache keeps each course's signed status list until a
// revocation changes it: signing and canonicalising a 16 KB list is far
// dearer than serving it. The zero value is ready to use.
type statusListCache struct {
	mu    sync.Mutex
	lists map[int64]signedList
}

type signedList struct {
	revoked int
	body    []byte
}

func (c *statusListCache) get(courseID int64) (signedList, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.lists[courseID]
	return b, ok
}

func (c *statusListCache) put(courseID int64, l signedList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lists == nil || len(c.lists) > 1024 {
		c.lists = make(map[int64]signedList)
	}
	c.lists[courseID] = l
}

func (c *statusListCache) forget(courseID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.lists, courseID)
}

// StatusList renders the course's revocation list as a signed
// BitstringStatusListCredential. Its validFrom and proof date are the
// course's creation, so the same revocations always give the same bytes.
// The cache is per process: another process (colearn worker, a second
// serve) that revoked makes this one's copy stale, which is why it is
// rebuilt whenever the revoked count differs.
func (a *Actions) StatusList(ctx context.Context, c courses.Course) ([]byte, error) {
	revoked, err := a.Courses.RevokedIndexes(ctx, a.Pool, c.ID)
	if err != nil {
		return nil, err
	}
	if l, ok := a.statusLists.get(c.ID); ok && l.revoked == len(revoked) {
		return l.body, nil
	}
	list := credential.NewStatusList()
	for _, i := range revoked {
		if err := list.Set(i); err != nil {
			return nil, err
		}
	}
	kp, err := a.Keys.Get(ctx, c.Slug)
	if err != nil {
		return nil, err
	}
	since := c.CreatedAt.UTC().Truncate(time.Second)
	doc := credential.StatusListCredential(a.StatusListIRI(c), a.issuer(c), since, list)
	signed, err := a.Credentials.AddProof(doc, kp.Ed25519, credential.ProofOptions{
		VerificationMethod: federation.AssertionKey(a.urls().Course(c.Slug)), Created: since,
	})
	if err != nil {
		return nil, fmt.Errorf("sign status list of %s: %w", c.Slug, err)
	}
	body, err := json.Marshal(signed)
	if err != nil {
		return nil, err
	}
	a.statusLists.put(c.ID, signedList{revoked: len(revoked), body: body})
	return body, nil
}
