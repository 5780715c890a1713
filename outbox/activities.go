package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/singleflight"
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
// once stored, so the last few hundred read are kept in memory, and the
// deliveries that start together (a post's hundred jobs, fetched at once)
// share one read: a post to ten thousand inboxes reads its row once, not
// once per job, and its first POSTs do not wait behind a hundred queries
// for the same row.
type activities struct {
	pool *pgxpool.Pool
	max  int
	// reads joins concurrent reads of one id into one query.
	reads singleflight.Group

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
	v, err, _ := a.reads.Do(id, func() (any, error) { return a.read(ctx, id) })
	if err != nil {
		return nil, err
	}
	return v.(*stored), nil
}

const readActivity = `SELECT body, actor_iri, key_owner, type FROM outbox_activities WHERE id = $1`

// read queries the activity id and keeps it.
func (a *activities) read(ctx context.Context, id string) (*stored, error) {
	return a.scan(id, a.pool.QueryRow(ctx, readActivity, id))
}

// queueReads queues on b one read of the activities ids, to keep them when
// b runs: the fan-out reads what its deliveries will send in the round trip
// that reads its targets. Missing activities are left for the deliveries
// to find. When into is not nil, what is read is also put there.
func (a *activities) queueReads(b *pgx.Batch, ids []string, into map[string]*stored) {
	b.Queue(`SELECT id, body, actor_iri, key_owner, type FROM outbox_activities WHERE id = ANY($1)`, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id string
			s := &stored{}
			var body string
			if err := rows.Scan(&id, &body, &s.actorIRI, &s.keyOwner, &s.typ); err != nil {
				return fmt.Errorf("read %d activities: %w", len(ids), err)
			}
			s.body = []byte(body)
			s = a.keep(id, s)
			if into != nil {
				into[id] = s
			}
		}
		return rows.Err()
	})
}

// getMany returns the stored activities among ids, read in one query for
// those not in memory; an id that is not stored is absent from the map.
func (a *activities) getMany(ctx context.Context, ids []string) (map[string]*stored, error) {
	out := make(map[string]*stored, len(ids))
	var missing []string
	a.mu.Lock()
	for _, id := range ids {
		if s, ok := a.byID[id]; ok {
			out[id] = s
		} else {
			missing = append(missing, id)
		}
	}
	a.mu.Unlock()
	switch len(missing) {
	case 0:
		return out, nil
	case 1:
		// A post's jobs for many hosts start together, each missing the
		// same one activity: get joins their reads into one query.
		s, err := a.get(ctx, missing[0])
		if errors.Is(err, errNoActivity) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out[missing[0]] = s
		return out, nil
	}
	var b pgx.Batch
	a.queueReads(&b, missing, out)
	if err := a.pool.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	return out, nil
}

// cached reports whether activity id is in memory.
func (a *activities) cached(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.byID[id]
	return ok
}

// scan reads an activity row and keeps it.
func (a *activities) scan(id string, row pgx.Row) (*stored, error) {
	s := &stored{}
	var body string
	err := row.Scan(&body, &s.actorIRI, &s.keyOwner, &s.typ)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("deliver %s: %w", id, errNoActivity)
	}
	if err != nil {
		return nil, fmt.Errorf("deliver %s: read activity: %w", id, err)
	}
	s.body = []byte(body)
	return a.keep(id, s), nil
}

// keep remembers s as activity id, forgetting the oldest beyond max, and
// returns what is remembered for id.
func (a *activities) keep(id string, s *stored) *stored {
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
	return a.byID[id]
}
