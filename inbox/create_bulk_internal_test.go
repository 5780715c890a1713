package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/pgtest"
	"github.com/colearn/colearn/outbox"
)

// TestBulkCreatesMatchOneByOne applies the same batch of activities, a mix
// of plain posts and everything the bulk path must leave alone or refuse
// (hostile authors, non-members, pending and blocked members, tombstones,
// replays, edits, another author's post id, ids repeated in the batch,
// replies, direct posts, empty and oversized posts, posts with a NUL in
// their text, a post a statement fails for, an actor whose document must
// be fetched first, a co-hosted course, Deletes before and after Creates of the same post), once with
// every activity applied alone and once with the bulk path on, each on a
// fresh database set up the same way. The outcomes, the stored posts,
// tombstones, announces, outbox activities and fan-outs (each activity's
// recipients) must be the same, and the bulk run must have taken the bulk
// path and sent fewer statements.
func TestBulkCreatesMatchOneByOne(t *testing.T) {
	t.Parallel()
	oneByOne := runBulkCase(t, true)
	bulk := runBulkCase(t, false)
	if bulk.bulkInserts == 0 {
		t.Fatalf("the bulk run never used CreatePosts")
	}
	if oneByOne.bulkInserts != 0 {
		t.Fatalf("the one-by-one run used CreatePosts %d times", oneByOne.bulkInserts)
	}
	if bulk.statements >= oneByOne.statements {
		t.Errorf("bulk run sent %d statements, one by one %d", bulk.statements, oneByOne.statements)
	}
	for _, part := range []struct {
		name      string
		one, bulk []string
	}{
		{"outcomes", oneByOne.outcomes, bulk.outcomes},
		{"posts", oneByOne.posts, bulk.posts},
		{"tombstones", oneByOne.tombstones, bulk.tombstones},
		{"announces", oneByOne.announces, bulk.announces},
		{"outbox", oneByOne.outbox, bulk.outbox},
		{"jobs", oneByOne.jobs, bulk.jobs},
	} {
		if len(part.one) == 0 {
			t.Errorf("%s: nothing stored one by one; the case tests nothing", part.name)
		}
		if onlyOne, onlyBulk := without(part.one, part.bulk), without(part.bulk, part.one); len(onlyOne)+len(onlyBulk) > 0 {
			t.Errorf("%s differ:\nonly one by one:\n  %s\nonly bulk:\n  %s", part.name, strings.Join(onlyOne, "\n  "), strings.Join(onlyBulk, "\n  "))
		}
	}

	// A post with a NUL in its text fails for good on its first attempt.
	for _, post := range []string{"/notes/nul:", "/notes/nul-title:"} {
		i := slices.IndexFunc(bulk.outcomes, func(l string) bool { return strings.Contains(l, " processed=") && strings.Contains(l, post) })
		if i < 0 {
			t.Errorf("no stored outcome names %s", post)
			continue
		}
		if l := bulk.outcomes[i]; !strings.Contains(l, "processed=true attempts=1 retry=false") {
			t.Errorf("%s is left to be tried again: %s", post, l)
		}
	}
	// What the case is about, so that it cannot pass by storing nothing.
	for _, want := range []string{"/notes/plain", "/notes/rich", "/notes/script", "/notes/open", "/notes/article", "/notes/context", "/notes/edited"} {
		if !slices.ContainsFunc(bulk.posts, func(p string) bool { return strings.Contains(p, want+" ") }) {
			t.Errorf("post %s not stored", want)
		}
	}
	for _, refused := range []string{"/notes/forged", "/notes/pending", "/notes/stranger", "/notes/tombstoned", "/notes/blocked", "/notes/direct", "/notes/later-deleted-first"} {
		if slices.ContainsFunc(bulk.posts, func(p string) bool { return strings.Contains(p, refused+" ") && !strings.Contains(p, "deleted=true") }) {
			t.Errorf("post %s stored", refused)
		}
	}
}

// bulkRun is what one application of the case left in its database,
// rendered as comparable lines.
type bulkRun struct {
	outcomes, posts, tombstones, announces, outbox, jobs []string
	statements, bulkInserts                              int64
}

// bulkTracer counts the statements a pool sends and the CreatePosts ones.
type bulkTracer struct{ all, bulk atomic.Int64 }

func (c *bulkTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.all.Add(1)
	if strings.Contains(d.SQL, "INSERT INTO posts") && strings.Contains(d.SQL, "unnest") {
		c.bulk.Add(1)
	}
	return ctx
}

func (c *bulkTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func runBulkCase(t *testing.T, oneByOne bool) bulkRun {
	ctx := t.Context()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	tracer := &bulkTracer{}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	urls := federation.URLs{Scheme: "http", Host: "learn.example"}
	keys := federation.NewKeyStore(pool)
	if err := keys.EnsureInstanceKeys(ctx); err != nil {
		t.Fatal(err)
	}
	store := courses.NewStore(pool)
	ob, err := outbox.New(outbox.Config{Pool: pool, Keys: keys, Client: federation.NewClient(federation.ClientConfig{AllowPrivate: true}),
		PublishedFunc: func(ctx context.Context, tx pgx.Tx, actorIRI string) error {
			return store.Changed(ctx, tx, courses.OutboxScope(actorIRI))
		}})
	if err != nil {
		t.Fatal(err)
	}
	sender := &outbox.Sender{Outbox: ob, URLs: urls}
	actions := &outbox.Actions{Pool: pool, Courses: store, Keys: keys, Sender: sender}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := store.CreateUser(ctx, tx, courses.NewUser{Username: "olga", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Create(ctx, tx, "olga"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	closed, err := actions.CreateCourse(ctx, owner, courses.CourseDraft{Slug: "closed", Title: "Closed"})
	if err != nil {
		t.Fatal(err)
	}
	open, err := actions.CreateCourse(ctx, owner, courses.CourseDraft{Slug: "open", Title: "Open", OpenDiscussion: true})
	if err != nil {
		t.Fatal(err)
	}
	closedIRI, openIRI := urls.Course("closed"), urls.Course("open")

	peer := "https://peer.example"
	actor := func(name string) string { return peer + "/users/" + name }
	ada, bo, pia, eve, bla, nofetch := actor("ada"), actor("bo"), actor("pia"), actor("eve"), actor("bla"), actor("nofetch")
	cohostIRI := peer + "/courses/mirrored"
	member := func(courseID int64, iri, state string) {
		exec(`INSERT INTO course_members (course_id, actor_iri, name, handle, inbox, shared_inbox, state, via)
			VALUES ($1, $2, $3, $3, $2 || '/inbox', $4, $5, 'follow')`, courseID, iri, iri[strings.LastIndex(iri, "/")+1:], peer+"/inbox", state)
	}
	for _, iri := range []string{ada, bo, nofetch, cohostIRI} {
		member(closed.ID, iri, courses.StateAccepted)
	}
	member(closed.ID, pia, courses.StatePending)
	member(open.ID, bla, courses.StateBlocked)
	// A colearn member, so that replies are announced too.
	exec(`INSERT INTO course_members (course_id, actor_iri, inbox, shared_inbox, state, via) VALUES ($1, $2, $2 || '/inbox', '', 'accepted', 'join')`,
		closed.ID, "https://other.example/users/carl")
	exec(`INSERT INTO cohosted_courses (course_iri, inbox, follow_id, state, added_by) VALUES ($1, $1 || '/inbox', $1 || '#follow', 'accepted', 'olga')`, cohostIRI)
	note := func(name string) string { return peer + "/notes/" + name }
	exec(`INSERT INTO tombstones (iri, actor_iri) VALUES ($1, $2)`, note("tombstoned"), ada)
	for _, p := range []struct{ iri, author string }{{note("replayed"), ada}, {note("edited"), ada}, {note("bos"), bo}} {
		if _, _, err := store.SavePost(ctx, pool, courses.Post{IRI: p.iri, CourseIRI: closedIRI, AuthorIRI: p.author, AuthorName: "x",
			Content: "<p>before</p>", Published: mustTime(t, "2026-01-01T00:00:00Z")}); err != nil {
			t.Fatal(err)
		}
	}

	// A statement that fails for one post: the bulk set it is in rolls
	// back and is applied one by one, where it fails alone.
	exec(`CREATE FUNCTION refuse_unlucky() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.post_iri LIKE '%/notes/unlucky' THEN RAISE EXCEPTION 'refused by trigger'; END IF; RETURN NEW; END $$`)
	exec(`CREATE TRIGGER refuse_unlucky BEFORE INSERT ON post_announces FOR EACH ROW EXECUTE FUNCTION refuse_unlucky()`)

	public := "https://www.w3.org/ns/activitystreams#Public"
	var seq int
	create := func(by, id string, object map[string]any) map[string]any {
		seq++
		obj := map[string]any{"id": id, "type": "Note", "attributedTo": by, "content": "<p>hello</p>",
			"to": []string{public, closedIRI}, "published": fmt.Sprintf("2026-02-01T00:00:%02dZ", seq)}
		for k, v := range object {
			if v == nil {
				delete(obj, k)
			} else {
				obj[k] = v
			}
		}
		return map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": fmt.Sprintf("%s/activities/%d", by, seq),
			"type": "Create", "actor": by, "to": obj["to"], "object": obj}
	}
	other := func(by, typ string, object any) map[string]any {
		seq++
		return map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": fmt.Sprintf("%s/activities/%d", by, seq),
			"type": typ, "actor": by, "object": object}
	}
	activities := []map[string]any{
		create(ada, note("plain"), nil),
		create(ada, note("rich"), map[string]any{"summary": "cw", "tag": []any{
			map[string]any{"type": "Mention", "href": bo, "name": "@bo@peer.example"},
			map[string]any{"type": "Hashtag", "href": peer + "/tags/go", "name": "#go"},
			map[string]any{"type": "Mention", "href": "javascript:alert(1)", "name": "@x"}},
			"attachment": []any{map[string]any{"type": "Image", "mediaType": "image/png", "url": peer + "/a.png", "name": "<b>alt</b>"}}}),
		create(bo, note("script"), map[string]any{"content": `<p onclick="x()">hi<script>alert(1)</script></p>`, "url": peer + "/@bo/1"}),
		create(ada, note("forged"), map[string]any{"attributedTo": bo}),
		create(ada, "https://evil.example/notes/foreign", nil),
		create(pia, note("pending"), nil),
		create(eve, note("stranger"), nil),
		create(ada, note("tombstoned"), nil),
		create(ada, note("replayed"), nil),
		create(ada, note("edited"), map[string]any{"content": "<p>after</p>", "updated": "2026-03-01T00:00:00Z"}),
		create(ada, note("bos"), map[string]any{"content": "<p>taken</p>", "updated": "2026-03-01T00:00:00Z"}),
		create(ada, note("plain"), map[string]any{"content": "<p>again, in the same batch</p>"}),
		create(ada, note("reply"), map[string]any{"inReplyTo": note("plain")}),
		create(ada, note("direct"), map[string]any{"to": []string{closedIRI}}),
		create(ada, note("empty"), map[string]any{"content": "<script>x</script>"}),
		create(ada, note("huge"), map[string]any{"content": "<p>" + strings.Repeat("a", courses.MaxPostLen) + "</p>"}),
		create(eve, note("open"), map[string]any{"to": []string{public, openIRI}}),
		create(bla, note("blocked"), map[string]any{"to": []string{public, openIRI}}),
		create(cohostIRI, peer+"/courses/mirrored/notes/1", nil),
		create(nofetch, note("unfetched"), nil),
		other(ada, "Like", note("plain")),
		create(ada, note("unlucky"), nil),
		create(ada, note("page"), map[string]any{"type": "Page"}),
		create(ada, note("article"), map[string]any{"type": "Article", "name": "A <i>title</i>"}),
		create(ada, note("context"), map[string]any{"to": []string{public}, "context": closedIRI}),
		create(ada, note("nowhere"), map[string]any{"to": []string{public, urls.Course("missing")}}),
		create(bo, note("later-deleted"), nil),
		other(bo, "Delete", note("later-deleted")),
		other(bo, "Delete", note("later-deleted-first")),
		create(bo, note("later-deleted-first"), nil),
		create(bo, note("after-delete"), nil),
		// Text PostgreSQL never stores: final, never retried.
		create(ada, note("nul"), map[string]any{"content": "<p>hel\x00lo</p>", "summary": "c\x00w"}),
		create(ada, note("nul-title"), map[string]any{"type": "Article", "name": "ti\x00tle"}),
	}

	p := &Processor{Pool: pool, Courses: store, Sender: sender, URLs: urls, oneByOne: oneByOne}
	p.init()
	var jobs []*applyJob
	for _, a := range activities {
		body, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		in := &Incoming{Envelope: Envelope{ID: a["id"].(string), Type: a["type"].(string), Actor: a["actor"].(string)}, Body: body}
		if err := pool.QueryRow(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, body) VALUES ($1, $2, $3, $4) RETURNING seq`,
			in.ID, in.Actor, in.Type, body).Scan(&in.seq); err != nil {
			t.Fatal(err)
		}
		if in.Actor != nofetch { // as the worker carries the actor's document from one activity to the next
			name := in.Actor[strings.LastIndex(in.Actor, "/")+1:]
			in.fetched = map[string]fetchResult{fetchKey(&needFetch{iri: in.Actor, actor: true}): {
				actor: federation.RemoteActor{IRI: in.Actor, Type: "Person", Name: "The " + name, PreferredUsername: name, Inbox: in.Actor + "/inbox"}}}
		}
		jobs = append(jobs, &applyJob{in: in, failed: in.parse()})
	}
	before, bulkBefore := tracer.all.Load(), tracer.bulk.Load()
	results := p.applyBatch(ctx, jobs)
	run := bulkRun{statements: tracer.all.Load() - before, bulkInserts: tracer.bulk.Load() - bulkBefore}
	for i, r := range results {
		need := ""
		if r.need != nil {
			need = r.need.iri
		}
		run.outcomes = append(run.outcomes, fmt.Sprintf("%s: done=%v held=%v need=%q err=%v", jobs[i].in.ID, r.done, r.held, need, r.err))
	}
	run.outcomes = append(run.outcomes, lines(t, pool, `SELECT activity_id || ' processed=' || (processed_at IS NOT NULL) || ' attempts=' || attempts ||
		' retry=' || (next_attempt_at IS NOT NULL) || ' error=' || coalesce(error, '') FROM inbox_activities`)...)
	run.posts = lines(t, pool, `SELECT iri || ' ' || concat_ws(' | ', course_iri, author_iri, author_name, author_handle, in_reply_to, type, name, content, url,
		published, CASE WHEN deleted THEN 'deleted=true' ELSE coalesce(updated::text, 'never updated') END, local, summary, sensitive, tags, attachments) FROM posts`)
	run.tombstones = lines(t, pool, `SELECT iri || ' by ' || actor_iri FROM tombstones`)
	run.announces = lines(t, pool, `SELECT post_iri || ' in ' || course_id || ' undone=' || (undone_at IS NOT NULL) FROM post_announces`)
	// Activity ids and times are fresh in each run: name each Announce by
	// the post it boosts, and leave the times out.
	names := map[string]string{}
	for _, l := range lines(t, pool, `SELECT announce_id || ' ' || post_iri FROM post_announces`) {
		id, post, _ := strings.Cut(l, " ")
		names[id] = "announce-of:" + post
	}
	bodies := map[string]string{}
	rows, err := pool.Query(ctx, `SELECT id, type, actor_iri, key_owner, public, body FROM outbox_activities`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, typ, actorIRI, owner, body string
		var public bool
		if err := rows.Scan(&id, &typ, &actorIRI, &owner, &public, &body); err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		delete(doc, "id")
		delete(doc, "published")
		norm, _ := json.Marshal(doc)
		s := string(norm)
		for from, to := range names {
			s = strings.ReplaceAll(s, from, to)
		}
		bodies[id] = fmt.Sprintf("%s by %s (%s) public=%v %s", typ, actorIRI, owner, public, s)
		run.outbox = append(run.outbox, bodies[id])
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(run.outbox)
	for _, l := range lines(t, pool, `SELECT kind || ' ' || args::text FROM river_job`) {
		kind, args, _ := strings.Cut(l, " ")
		var a map[string]any
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			t.Fatal(err)
		}
		// One line per activity fanned out: a job may carry several
		// activities with the same recipients (fanoutArgs.More), grouped
		// as the batch gathered them.
		ids := []any{a["activity_id"]}
		if more, ok := a["more"].([]any); ok {
			ids = append(ids, more...)
		}
		delete(a, "more")
		for _, id := range ids {
			s, _ := id.(string)
			a["activity_id"] = bodies[s]
			norm, _ := json.Marshal(a)
			run.jobs = append(run.jobs, kind+" "+string(norm))
		}
	}
	slices.Sort(run.jobs)
	return run
}

// without returns the lines of a that b lacks, counting repeats.
func without(a, b []string) []string {
	left := map[string]int{}
	for _, l := range b {
		left[l]++
	}
	var out []string
	for _, l := range a {
		if left[l] > 0 {
			left[l]--
			continue
		}
		out = append(out, l)
	}
	return out
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// lines returns the single text column of query's rows, sorted.
func lines(t *testing.T, pool *pgxpool.Pool, query string) []string {
	t.Helper()
	rows, err := pool.Query(t.Context(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	slices.Sort(out)
	return out
}
