package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/internal/peertest"
	"github.com/colearn/colearn/internal/pgtest"
)

// TestTwoWorkersShareTheInbox runs two `colearn worker` processes on one
// database and gives them a backlog of Creates from many actors of a
// hostile-peer server, interleaved: every activity is applied exactly once,
// each actor's in the order they arrived, and by one process at a time,
// though both processes apply at once.
func TestTwoWorkersShareTheInbox(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	bin := buildColearn(t)
	url := pgtest.NewDatabase(t)
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	if _, _, err := runCLI(t, "a long enough password\n", "user", "create", "--username", "olga", "--database-url", url, "--log-level", "warn"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, "", "course", "create", "--database-url", url, "--log-level", "warn", "--dev", "--host", host,
		"--owner", "olga", "--slug", "busy", "--title", "Busy"); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	courseIRI := "http://" + host + "/courses/busy"
	var courseID int64
	if err := pool.QueryRow(ctx, `SELECT id FROM courses WHERE slug = 'busy'`).Scan(&courseID); err != nil {
		t.Fatal(err)
	}

	peer := peertest.Start(t)
	// Each process has fewer workers than there are actors, so that both
	// must claim some.
	const nActors, perActor = 160, 3
	var actors []*peertest.Actor
	for i := range nActors {
		a := peer.NewActor(fmt.Sprintf("u%d", i))
		actors = append(actors, a)
		if _, err := pool.Exec(ctx, `INSERT INTO course_members (course_id, actor_iri, inbox, shared_inbox, state, via)
			VALUES ($1, $2, $3, $4, 'accepted', 'follow')`, courseID, a.IRI, a.IRI+"/inbox", peer.URL+"/inbox"); err != nil {
			t.Fatal(err)
		}
	}

	workers := []*workerProcess{startWorker(t, bin, url, host), startWorker(t, bin, url, host)}
	for _, w := range workers {
		w.waitFor(t, "colearn worker running")
	}

	// The backlog, interleaved across actors as a busy inbox receives it.
	var ids, actorIRIs, bodies []string
	for i := range perActor {
		for _, a := range actors {
			post := fmt.Sprintf("%s/posts/%d", a.IRI, i)
			act := a.Activity("Create", map[string]any{
				"id": fmt.Sprintf("%s/activities/%d", a.IRI, i), "to": []string{asPublic, courseIRI},
				"object": map[string]any{"id": post, "type": "Note", "attributedTo": a.IRI, "content": fmt.Sprintf("post %d", i),
					"to": []string{asPublic, courseIRI}},
			})
			body, _ := json.Marshal(act)
			ids, actorIRIs, bodies = append(ids, act["id"].(string)), append(actorIRIs, a.IRI), append(bodies, string(body))
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, body)
		SELECT id, actor, 'Create', body::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS a(id, actor, body, n) ORDER BY n`,
		ids, actorIRIs, bodies); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the backlog applied", 90*time.Second, func() (bool, error) {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities WHERE processed_at IS NULL`).Scan(&n)
		return n == 0, err
	})

	total := nActors * perActor
	var outOfOrder, notOnce, posts, announces int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM (
			SELECT processed_at, lag(processed_at) OVER (PARTITION BY actor_iri ORDER BY seq) AS prev FROM inbox_activities) x
		WHERE processed_at <= prev`).Scan(&outOfOrder); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities WHERE attempts <> 1 OR error <> ''`).Scan(&notOnce); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM posts WHERE course_iri = $1`, courseIRI).Scan(&posts); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox_activities WHERE type = 'Announce'`).Scan(&announces); err != nil {
		t.Fatal(err)
	}
	if outOfOrder != 0 || notOnce != 0 || posts != total || announces != total {
		t.Errorf("out of order %d, not applied exactly once %d, posts %d/%d, announces %d/%d", outOfOrder, notOnce, posts, total, announces, total)
	}
	// One process at a time works on an actor: each actor's document was
	// fetched once, by whichever process held the actor first (two at once
	// would both fetch it for the actor's first activity).
	for _, a := range actors {
		if hits := peer.Hits(peer.Path(a.IRI)); hits != 1 {
			t.Errorf("%s fetched %d times", a.IRI, hits)
		}
	}
	for i, w := range workers {
		if !strings.Contains(w.out.String(), "inbox batch applied") {
			t.Errorf("worker %d applied nothing: the test did not exercise two processes", i)
		}
	}
}

// workerProcess is a running `colearn worker`.
type workerProcess struct {
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
}

// startWorker starts `colearn worker` on the database url, killed when the
// test ends.
func startWorker(t *testing.T, bin, url, host string) *workerProcess {
	t.Helper()
	w := &workerProcess{cmd: exec.Command(bin, "worker", "--dev", "--host", host, "--database-url", url, "--log-level", "debug", "--inbox-workers", "16"),
		out: &lockedBuffer{}, exited: make(chan struct{})}
	w.cmd.Env = e2eEnv()
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("start colearn worker: %v", err)
	}
	go func() {
		w.cmd.Wait()
		close(w.exited)
	}()
	t.Cleanup(func() {
		w.cmd.Process.Kill()
		<-w.exited
		if t.Failed() {
			out := w.out.String()
			if len(out) > 20000 {
				out = out[len(out)-20000:]
			}
			t.Logf("colearn worker output (end):\n%s", out)
		}
	})
	return w
}

// waitFor waits until the worker has logged s.
func (w *workerProcess) waitFor(t *testing.T, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	eventually(t, "worker logging "+s, 60*time.Second, func() (bool, error) {
		select {
		case <-w.exited:
			t.Fatalf("colearn worker exited:\n%s", w.out.String())
		case <-ctx.Done():
		default:
		}
		return strings.Contains(w.out.String(), s), nil
	})
}
