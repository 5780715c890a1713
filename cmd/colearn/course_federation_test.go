package main

// Courses across three real instances: a course on A, learners on B and C,
// and the discussion travelling between them as signed activities delivered
// by the outbox's workers.

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
)

// eventually polls cond until it holds or the wait runs out.
func eventually(t *testing.T, what string, wait time.Duration, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(wait)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last error: %v)", wait, what, lastErr)
}

// user returns a local account created with createUser.
func (ti *testInstance) user(t *testing.T, name string) courses.User {
	t.Helper()
	u, err := ti.courses.UserByUsername(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// post returns a stored post, or ErrNotFound.
func (ti *testInstance) post(ctx context.Context, iri string) (courses.Post, error) {
	return ti.courses.PostByIRI(ctx, ti.pool, iri)
}

func (ti *testInstance) enrollmentState(ctx context.Context, user, courseIRI string) string {
	u, err := ti.courses.UserByUsername(ctx, user)
	if err != nil {
		return ""
	}
	e, err := ti.courses.Enrollment(ctx, ti.pool, u.ID, courseIRI)
	if err != nil {
		return ""
	}
	return e.State
}

func TestCourseAcrossThreeInstances(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	b := startInstance(t, testInstanceOptions{})
	c := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a, b, c)
	a.createUser(t, "olga")
	a.createUser(t, "lena")
	b.createUser(t, "bob")
	c.createUser(t, "carol")
	olga, lena, bob, carol := a.user(t, "olga"), a.user(t, "lena"), b.user(t, "bob"), c.user(t, "carol")

	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "intro-go", Title: "Intro to Go", Summary: "Learn *Go* together."})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	if _, err := a.actions.Enroll(ctx, lena, course); err != nil {
		t.Fatal(err)
	}

	// B and C join by handle; the course answers with Accept.
	for _, x := range []struct {
		in   *testInstance
		user courses.User
	}{{b, bob}, {c, carol}} {
		ra, err := x.in.actions.JoinRemote(ctx, x.user, "@intro-go@"+a.addr)
		if err != nil {
			t.Fatalf("join from %s: %v", x.in.addr, err)
		}
		if ra.IRI != courseIRI {
			t.Fatalf("resolved %s, want %s", ra.IRI, courseIRI)
		}
		eventually(t, x.user.Username+"'s enrollment accepted", 15*time.Second, func() (bool, error) {
			return x.in.enrollmentState(ctx, x.user.Username, courseIRI) == courses.StateAccepted, nil
		})
	}
	if n, err := a.courses.MemberCount(ctx, a.pool, course.ID); err != nil || n != 4 {
		t.Fatalf("members on A = %d (%v), want 4 (owner, lena, bob, carol)", n, err)
	}

	// A post from B reaches C (announced by the course) and A.
	bp, err := b.actions.Post(ctx, bob, courseIRI, "Hello from **B**", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*testInstance{a, c} {
		eventually(t, "B's post on "+x.addr, 15*time.Second, func() (bool, error) {
			p, err := x.post(ctx, bp.IRI)
			return err == nil && strings.Contains(p.Content, "<strong>B</strong>") && p.CourseIRI == courseIRI, err
		})
	}

	// NodeInfo counts posts written on an instance, not the copies it keeps.
	for _, x := range []struct {
		in   *testInstance
		want int
	}{{b, 1}, {c, 0}} {
		if n := x.in.nodeInfoLocalPosts(t); n != x.want {
			t.Fatalf("NodeInfo localPosts of %s = %d, want %d", x.in.addr, n, x.want)
		}
	}

	// C replies; B sees the reply, threaded under its post.
	cr, err := c.actions.Post(ctx, carol, courseIRI, "Reply from C", bp.IRI)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "C's reply on B", 15*time.Second, func() (bool, error) {
		p, err := b.post(ctx, cr.IRI)
		return err == nil && p.InReplyTo == bp.IRI, err
	})

	// B edits its post: C's copy follows.
	if _, err := b.actions.EditPost(ctx, bob, bp.IRI, "Hello from B, edited"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edit on C", 15*time.Second, func() (bool, error) {
		p, err := c.post(ctx, bp.IRI)
		return err == nil && strings.Contains(p.Content, "edited"), err
	})

	// B deletes it: C's copy goes too.
	if err := b.actions.DeletePost(ctx, bob, bp.IRI); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion on C", 15*time.Second, func() (bool, error) {
		p, err := c.post(ctx, bp.IRI)
		return err == nil && p.Deleted, err
	})

	// A's moderator removes C's reply: it disappears on B.
	if err := a.actions.RemovePost(ctx, olga, cr.IRI); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the removal on B", 15*time.Second, func() (bool, error) {
		p, err := b.post(ctx, cr.IRI)
		return err == nil && p.Deleted, err
	})
	// Only a moderator may remove.
	if err := a.actions.RemovePost(ctx, lena, bp.IRI); !errors.Is(err, courses.ErrForbidden) {
		t.Fatalf("lena removing a post: %v, want ErrForbidden", err)
	}

	// C leaves and no longer receives the course's posts.
	if err := c.actions.LeaveRemote(ctx, carol, courseIRI); err != nil {
		t.Fatal(err)
	}
	eventually(t, "carol off A's roster", 15*time.Second, func() (bool, error) {
		_, err := a.courses.MemberOf(ctx, a.pool, course.ID, c.urls.User("carol"))
		return errors.Is(err, courses.ErrNotFound), nil
	})
	ann, err := a.actions.Announce(ctx, olga, course, "Week 2 starts on Monday")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the announcement on B", 15*time.Second, func() (bool, error) {
		_, err := b.post(ctx, ann.IRI)
		return err == nil, nil
	})
	var toC int
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind IN ('outbox_delivery', 'outbox_delivery_set') AND coalesce(args->>'inboxes', args->>'inbox') LIKE $1
		AND args->>'activity_id' IN (SELECT id FROM outbox_activities WHERE body LIKE '%' || $2 || '%')`,
		"%"+c.addr+"%", ann.IRI).Scan(&toC); err != nil {
		t.Fatal(err)
	}
	if toC != 0 {
		t.Fatalf("%d deliveries of the announcement to C after carol left", toC)
	}
	if _, err := c.post(ctx, ann.IRI); !errors.Is(err, courses.ErrNotFound) {
		t.Fatalf("C has the announcement made after carol left: %v", err)
	}
}

// dumpOnFailure logs, when the test fails, what each instance could not
// apply and which deliveries did not succeed: the first places to look.
func dumpOnFailure(t *testing.T, instances ...*testInstance) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx := context.Background()
		for _, ti := range instances {
			rows, err := ti.pool.Query(ctx, `SELECT type, activity_id, error FROM inbox_activities WHERE error <> '' OR processed_at IS NULL`)
			if err == nil {
				for rows.Next() {
					var typ, id, msg string
					rows.Scan(&typ, &id, &msg)
					t.Logf("%s inbox: %s %s: %q", ti.addr, typ, id, msg)
				}
				rows.Close()
			}
			rows, err = ti.pool.Query(ctx, `SELECT kind, state, args::text, coalesce(errors::text, '') FROM river_job WHERE state <> 'completed'`)
			if err == nil {
				for rows.Next() {
					var kind, state, args, errs string
					rows.Scan(&kind, &state, &args, &errs)
					t.Logf("%s job: %s %s %s %s", ti.addr, kind, state, args, errs)
				}
				rows.Close()
			}
		}
	})
}

// nodeInfoLocalPosts reads usage.localPosts from the instance's NodeInfo 2.1.
func (ti *testInstance) nodeInfoLocalPosts(t *testing.T) int {
	t.Helper()
	status, body := ti.get(t, "/nodeinfo/2.1", "application/json")
	var doc struct {
		Usage struct {
			LocalPosts int `json:"localPosts"`
		} `json:"usage"`
	}
	if status != 200 || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("nodeinfo of %s: %d %s", ti.addr, status, body)
	}
	return doc.Usage.LocalPosts
}
