package inbox_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/inbox"
	"github.com/colearn/colearn/outbox"
)

// BenchmarkInboxApply measures how fast the processor applies a backlog of
// accepted activities on a durable PostgreSQL (fsync and synchronous commit
// on): 100 remote actors, each a member of a local course, send Create(Note)s,
// in two shapes: posts to the course (stored and announced, with the
// Announce's fan-out job enqueued in the same transaction) and public posts
// addressed to no course here (decided and dropped). The rate is reported
// against the all-core raw RSA-2048 verify rate of the same run: applying
// keeps up with the inbox when it is at least the accept target, 0.13 x
// raw verify.
//
//	go test -run='^$' -bench=InboxApply -benchtime=1x ./inbox/
func BenchmarkInboxApply(b *testing.B) {
	ctx := context.Background()
	// As many connections as `colearn serve` opens.
	cfg := durablePool(b).Config().Copy()
	cfg.MaxConns = 16
	// Round trips are counted: the rate swings with the machine's load,
	// statements per activity do not.
	statements := &statementCounter{}
	cfg.ConnConfig.Tracer = statements
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	const nActors, backlog = 100, 6000
	urls := federation.URLs{Scheme: "http", Host: "learn.example"}
	keys := federation.NewKeyStore(pool)
	if err := keys.EnsureInstanceKeys(ctx); err != nil {
		b.Fatal(err)
	}
	store := courses.NewStore(pool)
	var ob *outbox.Outbox
	ob, err = outbox.New(outbox.Config{Pool: pool, Keys: keys, Client: federation.NewClient(federation.ClientConfig{AllowPrivate: true})})
	if err != nil {
		b.Fatal(err)
	}
	sender := &outbox.Sender{Outbox: ob, URLs: urls}
	actions := &outbox.Actions{Pool: pool, Courses: store, Keys: keys, Sender: sender}
	owner := benchUser(b, pool, store, keys, "olga")
	course, err := actions.CreateCourse(ctx, owner, courses.CourseDraft{Slug: "bench", Title: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	courseIRI := urls.Course(course.Slug)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	actors := make([]string, nActors)
	for i := range actors {
		iri := fmt.Sprintf("https://peer%d.example/users/u%d", i%10, i)
		actors[i] = iri
		doc, _ := json.Marshal(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams", "id": iri, "type": "Person", "preferredUsername": fmt.Sprintf("u%d", i),
			"inbox": iri + "/inbox", "endpoints": map[string]any{"sharedInbox": fmt.Sprintf("https://peer%d.example/inbox", i%10)},
			"publicKey": map[string]any{"id": iri + "#main-key", "owner": iri, "publicKeyPem": federation.KeyPair{RSA: key}.PublicKeyPEM()},
		})
		if _, err := pool.Exec(ctx, `INSERT INTO remote_actors (iri, key_id, public_key_pem, inbox, shared_inbox, preferred_username, host, document)
			VALUES ($1, $1 || '#main-key', '', $1 || '/inbox', $2, $3, $4, $5)`,
			iri, fmt.Sprintf("https://peer%d.example/inbox", i%10), fmt.Sprintf("u%d", i), fmt.Sprintf("peer%d.example", i%10), doc); err != nil {
			b.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO course_members (course_id, actor_iri, inbox, shared_inbox, state, via)
			VALUES ($1, $2, $2 || '/inbox', $3, 'accepted', 'follow')`, course.ID, iri, fmt.Sprintf("https://peer%d.example/inbox", i%10)); err != nil {
			b.Fatal(err)
		}
	}
	raw := rawFixtureFor(b, key, []byte("raw verify baseline"))
	rsaBefore := raw.rate(runtime.GOMAXPROCS(0))

	for _, shape := range []struct {
		name string
		to   []string
	}{
		{"course_posts", []string{"https://www.w3.org/ns/activitystreams#Public", courseIRI}},
		{"no_course", []string{"https://www.w3.org/ns/activitystreams#Public"}},
	} {
		b.Run(shape.name, func(b *testing.B) {
			for n := 0; n < b.N; n++ {
				ids, actorIRIs, bodies := make([]string, backlog), make([]string, backlog), make([]string, backlog)
				for i := range backlog {
					a := actors[i%nActors]
					id := fmt.Sprintf("%s/activities/%s-%d-%d", a, shape.name, n, i)
					body, _ := json.Marshal(map[string]any{
						"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Create", "actor": a, "to": shape.to,
						"object": map[string]any{"id": id + "/note", "type": "Note", "attributedTo": a, "content": "<p>hello</p>", "to": shape.to},
					})
					ids[i], actorIRIs[i], bodies[i] = id, a, string(body)
				}
				if _, err := pool.Exec(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, body)
					SELECT id, actor, 'Create', body::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS a(id, actor, body, o) ORDER BY o`,
					ids, actorIRIs, bodies); err != nil {
					b.Fatal(err)
				}
				p := &inbox.Processor{Pool: pool, Courses: store, Fetcher: federation.NewResolver(pool, federation.NewClient(federation.ClientConfig{AllowPrivate: true}), urls, keys),
					Sender: sender, URLs: urls, Retention: -1, PollInterval: 10 * time.Millisecond}
				runCtx, cancel := context.WithCancel(ctx)
				done := make(chan struct{})
				start := time.Now()
				before := statements.n.Load()
				go func() { p.Run(runCtx); close(done) }()
				for {
					pending, err := p.Pending(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if pending == 0 {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				elapsed := time.Since(start)
				perActivity := float64(statements.n.Load()-before) / backlog
				cancel()
				<-done
				var failed int
				if err := pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities WHERE activity_id = ANY($1) AND error <> '' AND error NOT LIKE '%no course here%'`, ids).Scan(&failed); err != nil || failed > 0 {
					b.Fatalf("%d activities failed (%v)", failed, err)
				}
				rsaAfter := raw.rate(runtime.GOMAXPROCS(0))
				rsaN := (rsaBefore + rsaAfter) / 2
				rate := float64(backlog) / elapsed.Seconds()
				b.ReportMetric(rate, "applied/s")
				b.ReportMetric(rate/rsaN, "ratio_vs_rsa")
				b.ReportMetric(rsaN, "rsaN/s")
				b.ReportMetric(perActivity, "statements/activity")
				verdict := "ok"
				if rate/rsaN < 0.13 {
					verdict = "MISS"
				}
				b.Logf("%s: %d applied in %s = %.0f/s; raw verify %.0f/s; ratio %.3f (target >= 0.13: %s); %.1f statements per activity",
					shape.name, backlog, elapsed.Round(time.Millisecond), rate, rsaN, rate/rsaN, verdict, perActivity)
			}
		})
	}
}

// benchUser creates a local account with its keys.
func benchUser(b *testing.B, pool *pgxpool.Pool, store *courses.Store, keys *federation.KeyStore, name string) courses.User {
	b.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback(ctx)
	u, err := store.CreateUser(ctx, tx, courses.NewUser{Username: name, Password: "correct horse battery"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := keys.Create(ctx, tx, name); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return u
}

// statementCounter counts the statements a pool sends (each one round trip
// or more).
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A pipelined batch (pgx.Batch) counts one statement per query in it.
func (c *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (c *statementCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.n.Add(1)
}

func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
