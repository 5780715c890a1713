package main

// Co-authors on other servers, with real instances: a course on A, a
// co-author on B, a learner and an author without a grant on C, and a
// Fedify follower. B's author is invited from A's command line, accepts on
// B, adds and edits modules from B; C and Fedify get the changes from A's
// course actor; C's author is refused; a stale edit from B is refused
// naming the current revision and B shows both texts; after a revocation
// B's very next edit is refused.

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
)

// cli runs the colearn command line against ti's database, as its admin
// would on the instance's machine.
func (ti *testInstance) cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, stderr, err := runCLI(t, "", append(args, "--database-url", ti.pool.Config().ConnString(), "--log-level", "warn", "--host", ti.addr, "--dev")...)
	if err != nil {
		t.Logf("colearn %s: %s", strings.Join(args, " "), stderr)
	}
	return out, err
}

func (ti *testInstance) remoteEdit(t *testing.T, user string, match func(courses.RemoteEdit) bool) (courses.RemoteEdit, bool) {
	t.Helper()
	es, err := ti.courses.RemoteEdits(t.Context(), ti.pool, ti.user(t, user).ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if match(e) {
			return e, true
		}
	}
	return courses.RemoteEdit{}, false
}

func TestCoauthorsAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	peer := startFedifyPeer(t)
	a := startInstance(t, testInstanceOptions{})
	b := startInstance(t, testInstanceOptions{})
	c := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a, b, c)
	a.createUser(t, "olga")
	b.createUser(t, "bob")
	c.createUser(t, "carol")
	c.createUser(t, "mallory")
	olga := a.user(t, "olga")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "together", Title: "Built together"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	handle := "@together@" + a.addr
	bobIRI, malloryIRI := b.urls.User("bob"), c.urls.User("mallory")

	// The learner on C and the Fedify follower.
	if _, err := c.actions.JoinRemote(ctx, c.user(t, "carol"), handle); err != nil {
		t.Fatal(err)
	}
	eventually(t, "carol's enrollment", 20*time.Second, func() (bool, error) {
		return c.enrollmentState(ctx, "carol", courseIRI) == courses.StateAccepted, nil
	})
	var follow fedifyActivity
	peer.mustCall(t, http.MethodPost, "/control/follow", map[string]any{"actor": courseIRI}, &follow)
	peer.waitReceived(t, "the Accept of its Follow", func(x fedifyActivity) bool { return x.Type == "Accept" && x.Object == follow.ID })

	// Invited from A's command line, accepted from B's.
	if out, err := a.cli(t, "course", "invite", "--course", "together", "--role", "author", "@bob@"+b.addr); err != nil || !strings.Contains(out, bobIRI) {
		t.Fatalf("course invite: %q %v", out, err)
	}
	var invitation courses.Invitation
	eventually(t, "the invitation on B", 20*time.Second, func() (bool, error) {
		vs, err := b.courses.Invitations(ctx, b.pool, b.user(t, "bob").ID)
		if len(vs) == 1 {
			invitation = vs[0]
		}
		return len(vs) == 1 && vs[0].CourseIRI == courseIRI && vs[0].Role == "author", err
	})
	if out, err := b.cli(t, "invitation", "list", "--as", "bob"); err != nil || !strings.Contains(out, courseIRI) || !strings.Contains(out, "pending") {
		t.Fatalf("invitation list: %q %v", out, err)
	}
	// Before accepting, bob holds no grant: his change is refused.
	early, err := b.actions.ProposeModule(ctx, b.user(t, "bob"), handle, "Create", "", 0, courses.ModuleDraft{Title: "Too early", Body: "x"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the refusal of bob's early change", 20*time.Second, func() (bool, error) {
		e, ok := b.remoteEdit(t, "bob", func(e courses.RemoteEdit) bool { return e.ID == early.ID && e.State == "refused" })
		return ok && strings.Contains(e.Reason, "not allowed"), nil
	})
	if out, err := b.cli(t, "invitation", "accept", "--as", "bob", itoa(invitation.ID)); err != nil || !strings.Contains(out, "accepted") {
		t.Fatalf("invitation accept: %q %v", out, err)
	}
	eventually(t, "the grant on A, and its Add on B", 20*time.Second, func() (bool, error) {
		vs, err := b.courses.Invitations(ctx, b.pool, b.user(t, "bob").ID)
		return err == nil && len(vs) == 1 && vs[0].State == "granted", err
	})
	if out, err := a.cli(t, "course", "grants", "--course", "together"); err != nil || !strings.Contains(out, bobIRI) || !strings.Contains(out, "granted") ||
		!strings.Contains(out, a.urls.User("olga")) {
		t.Fatalf("course grants: %q %v", out, err)
	}
	if _, body := a.get(t, "/courses/together", "application/activity+json"); !strings.Contains(string(body), bobIRI) {
		t.Errorf("the course's attributedTo does not list bob: %s", body)
	}

	// Bob adds a module from B's command line.
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if out, err := b.cli(t, "module", "add", "--as", "bob", "--course", handle, "--title", "Loops", "--file", write("loops.md", "Go has **one** loop.")); err != nil ||
		!strings.Contains(out, "sent") {
		t.Fatalf("module add from B: %q %v", out, err)
	}
	var m courses.Module
	eventually(t, "bob's module on A", 20*time.Second, func() (bool, error) {
		mods, err := a.courses.Modules(ctx, a.pool, course.ID)
		if len(mods) == 1 {
			m = mods[0]
		}
		return len(mods) == 1 && mods[0].Title == "Loops", err
	})
	revs, err := a.courses.Revisions(ctx, a.pool, m.ID)
	if err != nil || len(revs) != 1 || revs[0].Author.IRI != bobIRI || revs[0].Author.Server != "http://"+b.addr {
		t.Fatalf("revision 1 is not credited to bob on B: %+v %v", revs, err)
	}
	moduleIRI := a.urls.Module(course.Slug, m.ID)
	eventually(t, "the module on C, from the course", 20*time.Second, func() (bool, error) {
		p, err := c.post(ctx, moduleIRI)
		return err == nil && p.AuthorIRI == courseIRI && p.Name == "Loops", nil
	})
	peer.waitFor(t, "Create of bob's module from the course", func(x fedifyReceived) bool {
		return x.Type == "Create" && x.Actor == courseIRI && x.Object == moduleIRI && slices.Contains(anyStrings(x.object()["attributedTo"]), bobIRI)
	})
	eventually(t, "the Accept of bob's change on B", 20*time.Second, func() (bool, error) {
		_, ok := b.remoteEdit(t, "bob", func(e courses.RemoteEdit) bool {
			return e.Kind == "Create" && e.State == "applied" && e.ResultRevision == 1
		})
		return ok, nil
	})

	// B shows the remote syllabus, and bob edits from B's command line.
	if out, err := b.cli(t, "module", "list", "--course", handle); err != nil || !strings.Contains(out, "Loops") {
		t.Fatalf("module list of the remote course: %q %v", out, err)
	}
	if out, err := b.cli(t, "module", "edit", "--as", "bob", "--course", handle, "--module", itoa(m.ID), "--file", write("loops2.md", "Go has one loop: `for`.")); err != nil {
		t.Fatalf("module edit from B: %q %v", out, err)
	}
	eventually(t, "bob's edit on A, C and Fedify", 20*time.Second, func() (bool, error) {
		cur, err := a.courses.ModuleOf(ctx, a.pool, course.ID, m.ID)
		p, _ := c.post(ctx, moduleIRI)
		return err == nil && cur.Revision == 2 && strings.Contains(cur.Body, "`for`") && strings.Contains(p.Content, "<code>for</code>"), err
	})
	peer.waitFor(t, "Update of bob's edit", func(x fedifyReceived) bool {
		return x.Type == "Update" && x.Actor == courseIRI && x.Object == moduleIRI
	})

	// An author on C without a grant is refused, and nothing changes.
	mallory := c.user(t, "mallory")
	if _, err := c.actions.ProposeModule(ctx, mallory, handle, "Update", moduleIRI, 2, courses.ModuleDraft{Title: "Defaced", Body: "mallory was here"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.actions.ProposeModule(ctx, mallory, handle, "Create", "", 0, courses.ModuleDraft{Title: "Spam", Body: "buy now"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both of mallory's changes refused", 20*time.Second, func() (bool, error) {
		es, err := c.courses.RemoteEdits(ctx, c.pool, mallory.ID)
		return err == nil && len(es) == 2 && es[0].State == "refused" && es[1].State == "refused", err
	})
	assertUnchanged := func(what string, revision int, title string) {
		t.Helper()
		mods, err := a.courses.AllModules(ctx, a.pool, course.ID)
		if err != nil || len(mods) != 1 || mods[0].Revision != revision || mods[0].Title != title {
			t.Fatalf("after %s the syllabus is %+v (%v), want one module at revision %d titled %q", what, mods, err, revision, title)
		}
		var leaked int
		if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_activities WHERE body LIKE '%mallory was here%' OR body LIKE '%buy now%' OR body LIKE '%revoked text%'`).Scan(&leaked); err != nil || leaked != 0 {
			t.Fatalf("after %s, %d activities carry refused text (%v)", what, leaked, err)
		}
	}
	assertUnchanged("mallory's changes", 2, "Loops")
	if revs, _ := a.courses.Revisions(ctx, a.pool, m.ID); slices.ContainsFunc(revs, func(r courses.Revision) bool { return r.Author.IRI == malloryIRI }) {
		t.Fatal("a revision is credited to mallory")
	}

	// A concurrent edit: olga on A and bob on B both from revision 2. Olga's
	// applies; bob's is refused naming revision 3, and B shows both texts.
	if _, err := a.actions.EditModule(ctx, olga, course, m.ID, 2, courses.ModuleDraft{Title: "Loops", Body: "Olga's text: for, range and break."}); err != nil {
		t.Fatal(err)
	}
	stale, err := b.actions.ProposeModule(ctx, b.user(t, "bob"), handle, "Update", moduleIRI, 2, courses.ModuleDraft{Title: "Loops", Body: "Bob's text: only for."})
	if err != nil {
		t.Fatal(err)
	}
	var refused courses.RemoteEdit
	eventually(t, "the refusal of bob's stale edit", 20*time.Second, func() (bool, error) {
		var ok bool
		refused, ok = b.remoteEdit(t, "bob", func(e courses.RemoteEdit) bool { return e.ID == stale.ID && e.State == "refused" })
		return ok, nil
	})
	if refused.ResultRevision != 3 || !strings.Contains(refused.Reason, "revision 3") || refused.CurrentBody != "Olga's text: for, range and break." {
		t.Errorf("the Reject of a stale edit: %+v", refused)
	}
	if out, err := b.cli(t, "invitation", "edits", "--as", "bob"); err != nil || !strings.Contains(out, "Bob's text: only for.") || !strings.Contains(out, "Olga's text") {
		t.Errorf("B does not show both texts: %q %v", out, err)
	}
	if kept, err := a.courses.RefusedEdits(ctx, a.pool, m.ID, bobIRI); err != nil || len(kept) != 1 || kept[0].Body != "Bob's text: only for." {
		t.Errorf("A did not keep bob's refused text: %+v %v", kept, err)
	}
	if cur, _ := a.courses.ModuleOf(ctx, a.pool, course.ID, m.ID); cur.Revision != 3 || !strings.HasPrefix(cur.Body, "Olga's") {
		t.Errorf("after the conflict the module is %+v", cur)
	}

	// Revoked from A's command line: bob's very next edit is refused.
	if out, err := a.cli(t, "course", "revoke", "--course", "together", "@bob@"+b.addr); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("course revoke: %q %v", out, err)
	}
	next, err := b.actions.ProposeModule(ctx, b.user(t, "bob"), handle, "Update", moduleIRI, 3, courses.ModuleDraft{Title: "Loops", Body: "revoked text"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the refusal of bob's edit after the revocation", 20*time.Second, func() (bool, error) {
		e, ok := b.remoteEdit(t, "bob", func(e courses.RemoteEdit) bool { return e.ID == next.ID && e.State == "refused" })
		return ok && strings.Contains(e.Reason, "not allowed"), nil
	})
	assertUnchanged("the revocation", 3, "Loops")
	eventually(t, "the Remove on B", 20*time.Second, func() (bool, error) {
		vs, err := b.courses.Invitations(ctx, b.pool, b.user(t, "bob").ID)
		return err == nil && len(vs) == 1 && vs[0].State == "revoked", err
	})
	if _, body := a.get(t, "/courses/together", "application/activity+json"); strings.Contains(string(body), bobIRI) {
		t.Errorf("the course's attributedTo still lists bob after the revocation")
	}
}
