package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// errNoActivity means a delivery names an activity that is not stored.
var errNoActivity = errors.New("activity not stored")

// stored is what a delivery needs of an activity.
type stored struct {
	body     []byte
	actorIRI string
	keyOwner string
	typ      string
}

// activities reads stored activities for deliveries. Activities never change
// once stored, so the last few hundred read are kept in memory: a post to ten
// thousand inboxes reads its row a handful of times, not ten thousand.
type activities struct {
	pool *pgxpool.Pool
	max  int

	mu    sync.Mutex
	byID  map[string]*stored
	order []string // insertion order, for eviction
}

func newActivities(pool *pgxpool.Pool) *activities {
	return &activities{pool: pool, max: 256, byID: make(map[string]*stored)}
}

func (a *activities) get(ctx context.Context, id string) (*stored, error) {
	a.mu.Lock()
	s, ok := a.byID[id]
	a.mu.Unlock()
	if ok {
		return s, nil
	}
	s = &stored{}
	var body string
	err := a.pool.QueryRow(ctx, `SELECT body, actor_iri, key_owner, type FROM outbox_activities WHERE id = $1`, id).Scan(&body, &s.actorIRI, &s.keyOwner, &s.typ)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("deliver %s: %w", id, errNoActivity)
	}
	if err != nil {
		return nil, fmt.Errorf("deliver %s: read activity: %w", id, err)
	}
	s.body = []byte(body)
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.byID[id]; !ok {
		if len(a.order) >= a.max {
			delete(a.byID, a.order[0])
			a.order = a.order[1:]
		}
		a.order = append(a.order, id)
		a.byID[id] = s
	}
	return a.byID[id], nil
}
