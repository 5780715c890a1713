package main

// Co-authors' changes against a caching instance, and moderators on other
// servers. A course on A (its document cache live); bob, a colearn user on
// B, and pete, on a hostile peer, hold moderator grants; mike on the peer
// holds an author grant; nobody holds none. Every grant, revocation and
// remote edit is visible on the very next fetch of what shows it. Pete's
// Delete and bob's Remove (sent from B) take posts out of the discussion
// as a local moderator's removal does; mike's and nobody's are refused and
// change nothing; after bob's revocation his next Remove is refused.

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/peertest"
)

func TestCoauthorChangesAreFreshAndRemoteModeratorsRemovePosts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startCachingInstance(t, testInstanceOptions{})
	b := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a, b)
	a.createUser(t, "olga")
	a.createUser(t, "ben")
	b.createUser(t, "bob")
	olga, ben, bob := a.user(t, "olga"), a.user(t, "ben"), b.user(t, "bob")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "mod", Title: "Moderated together", OpenDiscussion: true})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI, bobIRI := a.urls.Course("mod"), b.urls.User("bob")
	lesson, err := a.actions.AddModule(ctx, olga, course, courses.ModuleDraft{Title: "Rules", Body: "Be kind."})
	if err != nil {
		t.Fatal(err)
	}
	lessonPath := strings.TrimPrefix(a.urls.Module("mod", lesson.ID), "http://"+a.addr)
	bed := &trustBed{t: t, in: a, course: course, courseIRI: courseIRI, peer: peertest.Start(t)}
	pete, mike, nobody := bed.peer.NewActor("pete"), bed.peer.NewActor("mike"), bed.peer.NewActor("nobody")

	// Bob joins from B, so that B keeps copies of the discussion.
	if _, err := b.actions.JoinRemote(ctx, bob, courseIRI); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob's enrollment", 20*time.Second, func() (bool, error) {
		return b.enrollmentState(ctx, "bob", courseIRI) == courses.StateAccepted, nil
	})

	// The cached documents that show the grants and the syllabus, kept
	// once the set-up's notices are back. A change behind the cache's
	// back is not seen: what follows sees the invalidation's work.
	docs := map[string][2]string{
		"course actor": {"/courses/mod", activityJSON}, "course page": {"/courses/mod", "text/html"},
		"lesson": {lessonPath, activityJSON}, "lesson page": {lessonPath, "text/html"},
		"syllabus": {"/courses/mod/modules", activityJSON},
	}
	fetchDoc := func(name string) string { return a.fetch(t, docs[name][0], docs[name][1], "").body }
	// prime fills the cache with every document once the notices of what
	// came before are back, so that the change that follows finds them kept.
	prime := func() {
		t.Helper()
		eventually(t, "the notices so far", 10*time.Second, func() (bool, error) { return a.docs.Pending() == 0, nil })
		for name := range docs {
			fetchDoc(name)
		}
	}
	prime()
	if _, err := a.pool.Exec(ctx, `UPDATE modules SET body = 'Unannounced.', revision = 9 WHERE id = $1`, lesson.ID); err != nil {
		t.Fatal(err)
	}
	for name := range docs {
		if body := fetchDoc(name); strings.Contains(body, "Unannounced") {
			t.Fatalf("%s shows a change that was never announced: it is not served from the cache", name)
		}
	}
	if _, err := a.pool.Exec(ctx, `UPDATE modules SET body = 'Be kind.', revision = 1 WHERE id = $1`, lesson.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.courses.Changed(ctx, a.pool, courses.CourseScope(course.ID)); err != nil {
		t.Fatal(err)
	}
	prime()

	// Grants: bob (moderator, from B), pete (moderator) and mike (author)
	// on the peer. Each acceptance shows on the next fetch of the course.
	if _, err := a.actions.Invite(ctx, olga, course, courses.RoleModerator, "@bob@"+b.addr); err != nil {
		t.Fatal(err)
	}
	var invitation courses.Invitation
	eventually(t, "the invitation on B", 20*time.Second, func() (bool, error) {
		vs, err := b.courses.Invitations(ctx, b.pool, bob.ID)
		if len(vs) == 1 {
			invitation = vs[0]
		}
		return len(vs) == 1, err
	})
	prime()
	if _, err := b.actions.AnswerInvitation(ctx, bob, invitation.ID, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob's grant on B", 20*time.Second, func() (bool, error) {
		_, err := b.courses.GrantIn(ctx, b.pool, bob.ID, courseIRI)
		return err == nil, nil
	})
	if body := fetchDoc("course actor"); !strings.Contains(body, bobIRI) {
		t.Errorf("the next fetch of the course after bob's grant does not list him: %s", body)
	}
	for _, g := range []struct {
		who  *peertest.Actor
		role string
	}{{pete, courses.RoleModerator}, {mike, courses.RoleAuthor}} {
		grant, err := a.actions.Invite(ctx, olga, course, g.role, g.who.IRI)
		if err != nil {
			t.Fatal(err)
		}
		prime()
		if why := bed.deliver(g.who, g.who.Activity("Accept", map[string]any{"object": grant.InviteID, "to": []string{courseIRI}})); why != "" {
			t.Fatalf("%s's Accept: %s", g.who.IRI, why)
		}
		if body := fetchDoc("course actor"); !strings.Contains(body, g.who.IRI) {
			t.Errorf("the next fetch of the course after %s's grant does not list them", g.who.IRI)
		}
	}

	// A remote edit applied shows on the next fetch of the module, its
	// page and the syllabus.
	prime()
	if _, err := b.actions.ProposeModule(ctx, bob, courseIRI, "Update", a.urls.Module("mod", lesson.ID), 1, courses.ModuleDraft{Title: "House rules", Body: "Be kind, and cite."}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob's edit on A", 20*time.Second, func() (bool, error) {
		m, err := a.courses.ModuleOf(ctx, a.pool, course.ID, lesson.ID)
		return err == nil && m.Revision == 2, err
	})
	for _, name := range []string{"lesson", "lesson page", "course page"} {
		if body := fetchDoc(name); !strings.Contains(body, "House rules") {
			t.Errorf("the next fetch of the %s after bob's edit shows the old module", name)
		}
	}
	if body := fetchDoc("syllabus"); !strings.Contains(body, `"totalItems":1`) {
		t.Errorf("syllabus: %s", body)
	}
	if body := fetchDoc("lesson"); !strings.Contains(body, `"revision":2`) || !strings.Contains(body, bobIRI) {
		t.Errorf("the module after bob's edit: %s", body)
	}

	// Four posts by ben; bob's server keeps copies.
	var posts []courses.Post
	for _, text := range []string{"first", "second", "third", "fourth"} {
		p, err := a.actions.Post(ctx, ben, courseIRI, text+" post", "")
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, p)
	}
	eventually(t, "the posts on B", 20*time.Second, func() (bool, error) {
		for _, p := range posts {
			if _, err := b.post(ctx, p.IRI); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	intact := func(what string, p courses.Post) {
		t.Helper()
		cur, err := a.post(ctx, p.IRI)
		if err != nil || cur.Deleted {
			t.Fatalf("after %s, %s is gone from A (%v)", what, p.IRI, err)
		}
		var deletes int
		if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_activities WHERE type = 'Delete' AND body LIKE '%'||$1||'%'`, p.IRI).Scan(&deletes); err != nil || deletes != 0 {
			t.Fatalf("after %s, A sent %d Deletes of %s (%v)", what, deletes, p.IRI, err)
		}
	}
	removed := func(what string, p courses.Post, by string) {
		t.Helper()
		eventually(t, what, 20*time.Second, func() (bool, error) {
			cur, err := a.post(ctx, p.IRI)
			return err == nil && cur.Deleted, err
		})
		var logged int
		if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM moderation_log WHERE actor = $1 AND target = $2`, by, p.IRI).Scan(&logged); err != nil || logged != 1 {
			t.Errorf("%s: %d log entries by %s (%v)", what, logged, by, err)
		}
		eventually(t, what+", seen on B", 20*time.Second, func() (bool, error) {
			cur, err := b.post(ctx, p.IRI)
			return err == nil && cur.Deleted, err
		})
	}

	// Refused: an author's grant is not a moderator's, and no grant is none.
	for _, try := range []struct {
		who *peertest.Actor
		act map[string]any
	}{
		{mike, mike.Activity("Remove", map[string]any{"object": posts[0].IRI, "target": courseIRI, "to": []string{courseIRI}})},
		{mike, mike.Activity("Delete", map[string]any{"object": posts[0].IRI, "to": []string{courseIRI}})},
		{nobody, nobody.Activity("Delete", map[string]any{"object": posts[0].IRI, "to": []string{courseIRI}})},
		{nobody, nobody.Activity("Remove", map[string]any{"object": posts[0].IRI, "target": courseIRI, "to": []string{courseIRI}})},
	} {
		if why := bed.deliver(try.who, try.act); !strings.Contains(why, "may not") {
			t.Errorf("%s's %s was not refused (%q)", try.who.IRI, try.act["type"], why)
		}
		intact(try.who.IRI+"'s "+try.act["type"].(string), posts[0])
	}

	// Pete's Delete, and bob's Remove sent from B, are moderators' removals.
	if why := bed.deliver(pete, pete.Activity("Delete", map[string]any{"object": posts[1].IRI, "to": []string{courseIRI}})); why != "" {
		t.Fatalf("pete's Delete: %s", why)
	}
	removed("pete's removal", posts[1], pete.IRI)
	// Bob removes from B's page of the course, where the Remove button is
	// his as a moderator by a grant.
	web := b.signIn(t, "bob")
	page := web.do(http.MethodGet, remoteCoursePath(courseIRI), nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, `action="/remote/posts/remove"`) {
		t.Fatalf("B's course page offers bob no Remove (%d)", page.status)
	}
	if r := web.do(http.MethodPost, "/remote/posts/remove", url.Values{"course": {courseIRI}, "iri": {posts[2].IRI}}); r.status != http.StatusSeeOther {
		t.Fatalf("bob's Remove from B's page: %d %s", r.status, r.body)
	}
	removed("bob's removal", posts[2], bobIRI)

	// Revoked: the next fetch of the course no longer lists bob, and his
	// next Remove is refused.
	prime()
	if _, err := a.actions.Revoke(ctx, olga, course, bobIRI); err != nil {
		t.Fatal(err)
	}
	if body := fetchDoc("course actor"); strings.Contains(body, bobIRI) {
		t.Errorf("the next fetch of the course after the revocation still lists bob")
	}
	if err := b.actions.RemoveRemotePost(ctx, bob, courseIRI, posts[3].IRI); err != nil {
		t.Fatal(err)
	}
	var why string
	eventually(t, "bob's Remove after the revocation refused", 20*time.Second, func() (bool, error) {
		var done bool
		err := a.pool.QueryRow(ctx, `SELECT processed_at IS NOT NULL, error FROM inbox_activities
			WHERE actor_iri = $1 AND type = 'Remove' ORDER BY received_at DESC LIMIT 1`, bobIRI).Scan(&done, &why)
		return err == nil && done && why != "", nil
	})
	if !strings.Contains(why, "no moderator grant") {
		t.Errorf("bob's Remove after the revocation: %q", why)
	}
	intact("bob's Remove after the revocation", posts[3])
}

// webSession is a signed-in visitor of a test instance's pages.
type webSession struct {
	t    *testing.T
	base string
	c    *http.Client
}

// signIn signs username (made by createUser) in to ti's pages.
func (ti *testInstance) signIn(t *testing.T, username string) *webSession {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &webSession{t: t, base: "http://" + ti.addr,
		c: &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if r := s.do(http.MethodPost, "/signin", url.Values{"username": {username}, "password": {"correct horse battery staple"}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign %s in to %s: %d", username, ti.addr, r.status)
	}
	return s
}

type webAnswer struct {
	status int
	body   string
}

// do sends a GET, or a POST of form, to path.
func (s *webSession) do(method, path string, form url.Values) webAnswer {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.base+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return webAnswer{resp.StatusCode, string(raw)}
}

func remoteCoursePath(iri string) string { return "/remote/course?iri=" + url.QueryEscape(iri) }
