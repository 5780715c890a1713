package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	vocab "github.com/go-ap/activitypub"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/pgtest"
)

// queryCounter is a pgx tracer that counts the queries sent and the rows
// they returned.
type queryCounter struct{ n, rows atomic.Int64 }

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	return ctx
}

func (q *queryCounter) TraceQueryEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	if d.CommandTag.Select() {
		q.rows.Add(d.CommandTag.RowsAffected())
	}
}

// TestCourseOfTenThousandMembers serves the actor document and the
// followers collection of a course with 10,000 remote members (and two
// moderators) and counts the queries each GET sends: a bounded few, never
// one per member; every member is listed exactly once across the pages,
// and the page query reads by index.
func TestCourseOfTenThousandMembers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	counter := &queryCounter{}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store := courses.NewStore(pool)
	keys := NewKeyStore(pool)
	u := URLs{Scheme: "http", Host: "colearn.test"}
	var course courses.Course
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		owner, err := store.CreateUser(ctx, tx, courses.NewUser{Username: "olga", Password: "a long password 1"})
		if err != nil {
			return err
		}
		if _, err := keys.Create(ctx, tx, owner.Username); err != nil {
			return err
		}
		if course, err = store.CreateCourse(ctx, tx, owner, u.User("olga"), courses.CourseDraft{Slug: "big", Title: "Big"}); err != nil {
			return err
		}
		if _, err := keys.Create(ctx, tx, course.Slug); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO course_members (course_id, actor_iri, name, handle, inbox, shared_inbox, role, state, via, joined_at)
			SELECT $1, 'https://s' || (g % 100) || '.example/users/u' || g, 'U' || g, 'u' || g, '', '',
				CASE WHEN g <= 2 THEN 'moderator' ELSE 'learner' END, 'accepted', 'follow',
				now() - interval '1 hour' + (g / 7) * interval '1 second'
			FROM generate_series(1, 10000) g`, course.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE course_members`); err != nil {
		t.Fatal(err)
	}
	h := &Handler{URLs: u, Courses: store, Keys: keys} // no cache: every GET renders
	r := chi.NewRouter()
	h.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	const maxQueries, maxRows = 4, 2 * followersPageSize
	get := func(path string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Accept", ContentTypeActivity)
		before, rowsBefore := counter.n.Load(), counter.rows.Load()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if n := counter.n.Load() - before; n > maxQueries {
			t.Fatalf("GET %s sent %d queries, want at most %d", path, n, maxQueries)
		}
		if n := counter.rows.Load() - rowsBefore; n > maxRows {
			t.Fatalf("GET %s read %d rows, want at most %d: it loads the roster", path, n, maxRows)
		}
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}

	actor := get("/courses/big")
	attributed, _ := actor["attributedTo"].([]any)
	if len(attributed) != 3 || attributed[0] != u.User("olga") {
		t.Errorf("attributedTo = %v, want the owner then the two moderators", actor["attributedTo"])
	}
	root := get("/courses/big/followers")
	if root["totalItems"] != float64(10001) {
		t.Errorf("totalItems = %v, want 10001", root["totalItems"])
	}
	seen := map[string]bool{}
	next, _ := root["first"].(string)
	pages := 0
	for next != "" {
		page := get(strings.TrimPrefix(next, u.Base()))
		items, _ := page["orderedItems"].([]any)
		if len(items) == 0 || len(items) > followersPageSize {
			t.Fatalf("page %d lists %d members", pages+1, len(items))
		}
		for _, it := range items {
			s := fmt.Sprint(it)
			if seen[s] {
				t.Fatalf("member %s listed twice", s)
			}
			seen[s] = true
		}
		next, _ = page["next"].(string)
		pages++
	}
	if len(seen) != 10001 || pages != (10001+followersPageSize-1)/followersPageSize {
		t.Errorf("the pages listed %d members on %d pages, want 10001", len(seen), pages)
	}

	// The keyset page and the staff query read by index, not the table.
	for _, q := range []string{
		`EXPLAIN SELECT actor_iri FROM course_members WHERE course_id = 1 AND state = 'accepted'
			AND (joined_at, actor_iri) > (now() - interval '30 minutes', 'x') ORDER BY joined_at, actor_iri LIMIT 51`,
		`EXPLAIN SELECT actor_iri FROM course_members WHERE course_id = 1 AND state = 'accepted'
			AND role IN ('owner', 'moderator') ORDER BY role = 'owner' DESC, joined_at, actor_iri LIMIT 100`,
		`EXPLAIN SELECT 1 FROM course_members WHERE inbox = 'https://s1.example/inbox'`,
		`EXPLAIN SELECT 1 FROM remote_enrollments WHERE course_iri = 'https://s1.example/courses/x'`,
	} {
		rows, err := pool.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if p := strings.Join(plan, "\n"); strings.Contains(p, "Seq Scan") {
			t.Errorf("%s\nplans a sequential scan:\n%s", q, p)
		}
	}
}

// TestCollectionTotalItemsOnce: a collection states its size once (a
// document with duplicate keys means different things to different
// parsers).
func TestCollectionTotalItemsOnce(t *testing.T) {
	t.Parallel()
	for _, total := range []int{0, 7} {
		body, err := collectionJSON(vocab.OrderedCollectionNew("https://colearn.test/c/followers"), total)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(body), `"totalItems"`); n != 1 || !strings.Contains(string(body), fmt.Sprintf(`"totalItems":%d`, total)) {
			t.Errorf("collection of %d: totalItems appears %d times: %s", total, n, body)
		}
	}
}
