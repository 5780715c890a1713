package main

// Co-hosting across real instances: a course on A, co-hosted by B (whose
// instance actor follows it and keeps a mirror), learners on B and C. A is
// stopped (its listener closed and its process wiring closed) and started
// again on the same port and database.

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/peertest"
	"github.com/colearn/colearn/internal/pgtest"
)

// restart stops the instance as a process would stop (listener closed,
// workers stopped) and starts it again on the same address and database.
// The instance must have been started by startRestartable.
func (ti *testInstance) restart(t *testing.T, stopped func()) {
	t.Helper()
	ti.down(t)
	ti.instance.Close()
	if stopped != nil {
		stopped()
	}
	log, err := newLogger(ti.cfg.LogLevel, testLogWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	in, err := newInstance(t.Context(), ti.cfg, ti.pool, log)
	if err != nil {
		t.Fatalf("restart %s: %v", ti.addr, err)
	}
	ti.instance = in
	ti.up(t)
}

// startRestartable is startInstance for an instance the test restarts:
// its cleanup closes whichever instance runs at the end.
func startRestartable(t *testing.T, opts testInstanceOptions) *testInstance {
	t.Helper()
	pool := pgtest.NewPool(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg := config{Host: addr, Dev: true, SignatureWindow: time.Hour, LogLevel: "warn"}
	if opts.RetryDelay > 0 {
		cfg.retryDelay = func(int) time.Duration { return opts.RetryDelay }
	}
	if _, err := pool.Exec(t.Context(), `INSERT INTO instance_settings (key, value) VALUES ('registrations', $1)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, string(courses.RegistrationsOpen)); err != nil {
		t.Fatal(err)
	}
	log, err := newLogger(cfg.LogLevel, testLogWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	in, err := newInstance(t.Context(), cfg, pool, log)
	if err != nil {
		ln.Close()
		t.Fatalf("newInstance: %v", err)
	}
	ti := &testInstance{instance: in, addr: addr}
	ti.serve(t, ln)
	t.Cleanup(func() {
		ti.down(t)
		ti.instance.Close()
	})
	return ti
}

// signedIn returns an HTTP client signed in as username on ti.
func (ti *testInstance) signedIn(t *testing.T, username string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm("http://"+ti.addr+"/signin", url.Values{"username": {username}, "password": {"correct horse battery staple"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s on %s: %d", username, ti.addr, resp.StatusCode)
	}
	return c
}

func getPage(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func (ti *testInstance) mirrorModules(t *testing.T, courseIRI string) []courses.CohostedModule {
	t.Helper()
	mods, err := ti.courses.CohostModules(t.Context(), ti.pool, courseIRI)
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

func TestCohostingSurvivesTheOriginsOutage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startRestartable(t, testInstanceOptions{RetryDelay: 2 * time.Second})
	b := startInstance(t, testInstanceOptions{RetryDelay: 2 * time.Second})
	c := startInstance(t, testInstanceOptions{RetryDelay: 2 * time.Second})
	dumpOnFailure(t, a, b, c)
	a.createUser(t, "olga")
	b.createUser(t, "bob")
	b.createUser(t, "dave")
	c.createUser(t, "carol")
	if _, err := createAccount(ctx, b.pool, b.keys, courses.NewUser{Username: "ada", Password: "correct horse battery staple", IsAdmin: true}, b.courses.CreateUser); err != nil {
		t.Fatal(err)
	}
	olga, bob, dave, carol := a.user(t, "olga"), b.user(t, "bob"), b.user(t, "dave"), c.user(t, "carol")

	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "intro-go", Title: "Intro to Go",
		Summary: "Learn *Go* together.", Language: "en", Tags: []string{"go", "beginners"}})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	m1, err := a.actions.AddModule(ctx, olga, course, courses.ModuleDraft{Title: "Types", Body: "Every value has a **type**."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.actions.AddModule(ctx, olga, course, courses.ModuleDraft{Title: "Loops", Body: "`for` is the only loop."}); err != nil {
		t.Fatal(err)
	}
	// A local course on B, for the catalogue's search.
	if _, err := b.actions.CreateCourse(ctx, bob, courses.CourseDraft{Slug: "rust-intro", Title: "Rust for beginners",
		Language: "de", Tags: []string{"rust"}}); err != nil {
		t.Fatal(err)
	}

	// B's admin browses A's published catalogue and co-hosts from it.
	admin := b.signedIn(t, "ada")
	status, page := getPage(t, admin, "http://"+b.addr+"/admin/cohost?browse="+url.QueryEscape(a.addr))
	if status != http.StatusOK || !strings.Contains(page, "Intro to Go") || !strings.Contains(page, `value="`+courseIRI+`"`) {
		t.Fatalf("browsing A's catalogue from B: %d\n%s", status, page)
	}
	resp, err := admin.PostForm("http://"+b.addr+"/admin/cohost", url.Values{"action": {"add"}, "course": {courseIRI}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("co-host from the admin page: %d", resp.StatusCode)
	}
	// Twice is refused, and changes nothing.
	if _, err := b.actions.Cohost(ctx, "ada", "@intro-go@"+a.addr); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("co-hosting twice: %v", err)
	}

	// The mirror holds the syllabus; A accepts the instance actor's Follow
	// as a co-host, not as a learner.
	if mods := b.mirrorModules(t, courseIRI); len(mods) != 2 || mods[0].Title != "Types" || !strings.Contains(mods[0].Content, "<strong>type</strong>") || mods[1].Title != "Loops" {
		t.Fatalf("mirrored syllabus: %+v", mods)
	}
	eventually(t, "A's Accept of B's co-hosting", 20*time.Second, func() (bool, error) {
		cc, err := b.courses.Cohosted(ctx, b.pool, courseIRI)
		return cc.State == courses.CohostAccepted, err
	})
	cohosts, err := a.courses.CohostsOf(ctx, a.pool, course.ID)
	if err != nil || len(cohosts) != 1 || cohosts[0].InstanceIRI != b.urls.InstanceActor() {
		t.Fatalf("A's co-hosts: %+v (%v)", cohosts, err)
	}
	if n, err := a.courses.MemberCount(ctx, a.pool, course.ID); err != nil || n != 1 {
		t.Fatalf("members on A = %d (%v), want only the owner: a co-host is no learner", n, err)
	}
	if status, body := a.get(t, "/courses/intro-go", "text/html"); status != http.StatusOK || !strings.Contains(string(body), `id="cohosts"`) || !strings.Contains(string(body), b.addr) {
		t.Fatalf("A's course page does not list B as co-host: %d\n%s", status, body)
	}
	var doc struct {
		CohostedBy []string `json:"colearn:cohostedBy"`
	}
	if _, body := a.get(t, "/courses/intro-go", federation.ContentTypeActivity); json.Unmarshal(body, &doc) != nil || len(doc.CohostedBy) != 1 || doc.CohostedBy[0] != b.urls.InstanceActor() {
		t.Fatalf("A's course document cohostedBy = %v", doc.CohostedBy)
	}

	// Edits on A reach B's mirror through A's activities.
	if _, err := a.actions.EditModule(ctx, olga, course, m1.ID, m1.Revision, courses.ModuleDraft{Title: "Types and values", Body: "Every value has a *type*."}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the module edit in B's mirror", 20*time.Second, func() (bool, error) {
		mods := b.mirrorModules(t, courseIRI)
		return len(mods) == 2 && mods[0].Title == "Types and values" && strings.Contains(mods[0].Content, "<em>type</em>"), nil
	})
	course, err = a.courses.CourseBySlug(ctx, "intro-go")
	if err != nil {
		t.Fatal(err)
	}
	d := course.Draft()
	d.Title = "Intro to Go, together"
	if course, err = a.actions.UpdateCourse(ctx, olga, course.ID, course.Version, d); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the course's new title in B's mirror", 20*time.Second, func() (bool, error) {
		cc, err := b.courses.Cohosted(ctx, b.pool, courseIRI)
		return cc.Name == "Intro to Go, together", err
	})

	// B's catalogue lists it, hosted by A; search by title, tag, language.
	for _, x := range []struct {
		query      string
		want, lose []string
	}{
		{"", []string{"Intro to Go, together", "hosted by " + a.addr + ", co-hosted here", "Rust for beginners"}, nil},
		{"?q=together", []string{"Intro to Go, together"}, []string{"Rust for beginners"}},
		{"?q=RUST", []string{"Rust for beginners"}, []string{"Intro to Go"}},
		{"?tag=beginners", []string{"Intro to Go, together"}, []string{"Rust for beginners"}},
		{"?tag=rust", []string{"Rust for beginners"}, []string{"Intro to Go"}},
		{"?lang=de", []string{"Rust for beginners"}, []string{"Intro to Go"}},
		{"?lang=en&tag=go", []string{"Intro to Go, together"}, []string{"Rust for beginners"}},
		{"?q=nothing+like+this", []string{"No course matches."}, []string{"Intro to Go", "Rust for beginners"}},
	} {
		status, body := b.get(t, "/courses"+x.query, "text/html")
		if status != http.StatusOK {
			t.Fatalf("catalogue %s: %d", x.query, status)
		}
		for _, w := range x.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("catalogue %s lacks %q", x.query, w)
			}
		}
		for _, l := range x.lose {
			if strings.Contains(string(body), l) {
				t.Errorf("catalogue %s shows %q", x.query, l)
			}
		}
	}
	if status, _ := b.get(t, "/courses?q="+strings.Repeat("x", 201), "text/html"); status != http.StatusBadRequest {
		t.Errorf("an overlong search: %d, want 400", status)
	}
	// B's published catalogue lists both, the co-hosted one hosted by A.
	var col struct {
		Type, First string
		TotalItems  int
	}
	if _, body := b.get(t, "/catalogue", federation.ContentTypeActivity); json.Unmarshal(body, &col) != nil || col.Type != "OrderedCollection" || col.TotalItems != 2 {
		t.Fatalf("B's catalogue collection: %s", body)
	}
	var pg struct {
		ID           string `json:"id"`
		OrderedItems []struct {
			ID       string `json:"id"`
			HostedBy string `json:"hostedBy"`
			Cohosted bool   `json:"cohosted"`
		} `json:"orderedItems"`
	}
	if _, body := b.get(t, "/catalogue?page=1", federation.ContentTypeActivity); json.Unmarshal(body, &pg) != nil || len(pg.OrderedItems) != 2 || pg.ID != col.First {
		t.Fatalf("B's catalogue page: %s", body)
	}
	for _, it := range pg.OrderedItems {
		if it.ID == courseIRI && (!it.Cohosted || it.HostedBy != "http://"+a.addr) {
			t.Errorf("B's catalogue item for A's course: %+v", it)
		}
	}
	if status, _ := b.get(t, "/catalogue?page=0", federation.ContentTypeActivity); status != http.StatusBadRequest {
		t.Errorf("catalogue page 0: %d, want 400", status)
	}

	// Bob on B enrolls with one click; Carol on C joins too.
	bobWeb := b.signedIn(t, "bob")
	resp, err = bobWeb.PostForm("http://"+b.addr+"/cohosted/enroll", url.Values{"course": {courseIRI}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("one-click enroll: %d", resp.StatusCode)
	}
	if _, err := c.actions.JoinRemote(ctx, carol, "@intro-go@"+a.addr); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		in   *testInstance
		user string
	}{{b, "bob"}, {c, "carol"}} {
		eventually(t, x.user+"'s enrollment", 20*time.Second, func() (bool, error) {
			return x.in.enrollmentState(ctx, x.user, courseIRI) == courses.StateAccepted, nil
		})
	}
	first, err := b.actions.Post(ctx, bob, courseIRI, "Hello from **B**", "")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "Bob's first post on A and C", 20*time.Second, func() (bool, error) {
		_, errA := a.post(ctx, first.IRI)
		_, errC := c.post(ctx, first.IRI)
		return errA == nil && errC == nil, nil
	})

	// A is stopped. B still serves the course and its modules from the
	// mirror; a refetch fails and keeps the mirror.
	var downPost courses.Post
	a.restart(t, func() {
		if conn, err := net.DialTimeout("tcp", a.addr, time.Second); err == nil {
			conn.Close()
			t.Fatalf("A still accepts connections while stopped")
		}
		if err := b.actions.RefreshCohosted(ctx, courseIRI); err == nil {
			t.Fatalf("refreshing the mirror while A is down succeeded")
		}
		mods := b.mirrorModules(t, courseIRI)
		if len(mods) != 2 {
			t.Fatalf("mirror after a failed refresh: %+v", mods)
		}
		status, body := b.get(t, "/cohosted?iri="+url.QueryEscape(courseIRI), "text/html")
		if status != http.StatusOK || !strings.Contains(string(body), "Intro to Go, together") || !strings.Contains(string(body), "Types and values") ||
			!strings.Contains(string(body), "hosted by") || !strings.Contains(string(body), "mirror-stale") {
			t.Fatalf("B's course page while A is down: %d\n%s", status, body)
		}
		status, body = b.get(t, "/cohosted/module?course="+url.QueryEscape(courseIRI)+"&iri="+url.QueryEscape(mods[0].IRI), "text/html")
		if status != http.StatusOK || !strings.Contains(string(body), "<em>type</em>") {
			t.Fatalf("B's module page while A is down: %d\n%s", status, body)
		}
		// Bob posts, Dave enrolls: stored on B, queued for A.
		if downPost, err = b.actions.Post(ctx, bob, courseIRI, "Posted while **A** was down", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := b.actions.JoinRemote(ctx, dave, courseIRI); err != nil {
			t.Fatal(err)
		}
		if p, err := b.post(ctx, downPost.IRI); err != nil || !p.Local {
			t.Fatalf("the post made while A is down is not stored on B: %v", err)
		}
		_, mine := getPage(t, bobWeb, "http://"+b.addr+"/cohosted?iri="+url.QueryEscape(courseIRI))
		if !strings.Contains(mine, "Posted while <strong>A</strong> was down") || !strings.Contains(mine, "pending: not yet received by the course") {
			t.Fatalf("B's page does not show the post as pending:\n%s", mine)
		}
		if s := b.enrollmentState(ctx, "dave", courseIRI); s != courses.StatePending {
			t.Fatalf("Dave's enrollment while A is down: %q", s)
		}
	})

	// A is back: the post reaches A and every member, Dave is enrolled,
	// and B stops showing the post as pending.
	eventually(t, "the post made during the outage on A and C", 60*time.Second, func() (bool, error) {
		pa, errA := a.post(ctx, downPost.IRI)
		_, errC := c.post(ctx, downPost.IRI)
		return errA == nil && errC == nil && pa.CourseIRI == courseIRI, nil
	})
	eventually(t, "Dave's enrollment after the outage", 60*time.Second, func() (bool, error) {
		return b.enrollmentState(ctx, "dave", courseIRI) == courses.StateAccepted, nil
	})
	eventually(t, "the course's Announce back on B", 30*time.Second, func() (bool, error) {
		_, body := getPage(t, bobWeb, "http://"+b.addr+"/cohosted?iri="+url.QueryEscape(courseIRI))
		return strings.Contains(body, "Posted while") && !strings.Contains(body, "pending: not yet received"), nil
	})
	if err := b.actions.RefreshCohosted(ctx, courseIRI); err != nil {
		t.Fatalf("refresh after A is back: %v", err)
	}
	if cc, err := b.courses.Cohosted(ctx, b.pool, courseIRI); err != nil || cc.RefreshError != "" {
		t.Fatalf("mirror after A is back: %+v %v", cc, err)
	}

	// Uncohosting ends it on both sides.
	if _, err := b.actions.Uncohost(ctx, courseIRI); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A forgets B as co-host", 20*time.Second, func() (bool, error) {
		cs, err := a.courses.CohostsOf(ctx, a.pool, course.ID)
		return len(cs) == 0, err
	})
	if status, _ := b.get(t, "/cohosted?iri="+url.QueryEscape(courseIRI), "text/html"); status != http.StatusNotFound {
		t.Errorf("B's page of an uncohosted course: %d", status)
	}
}

// A peer that pretends to speak for the co-hosted course's origin changes
// nothing in the mirror: only the course's own actor updates it.
func TestCohostMirrorRefusesOtherSenders(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	b := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a, b)
	a.createUser(t, "olga")
	olga := a.user(t, "olga")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "intro-go", Title: "Intro to Go"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	m, err := a.actions.AddModule(ctx, olga, course, courses.ModuleDraft{Title: "Types", Body: "Every value has a type."})
	if err != nil {
		t.Fatal(err)
	}
	moduleIRI := a.urls.Module(course.Slug, m.ID)
	if _, err := b.actions.Cohost(ctx, "admin", courseIRI); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A's Accept", 20*time.Second, func() (bool, error) {
		cc, err := b.courses.Cohosted(ctx, b.pool, courseIRI)
		return cc.State == courses.CohostAccepted, err
	})

	peer := peertest.Start(t)
	mallory := peer.NewActor("mallory")
	hostile := []map[string]any{
		// The course's Group, as if updated, from another actor.
		mallory.Activity("Update", map[string]any{"object": map[string]any{
			"id": courseIRI, "type": "Group", "name": "Hijacked", "preferredUsername": "intro-go", "modules": courseIRI + "/modules"}}),
		// A module of the course, edited by another actor.
		mallory.Activity("Update", map[string]any{"object": map[string]any{
			"id": moduleIRI, "type": "Article", "context": courseIRI, "name": "Hijacked module", "content": "<p>evil</p>"}}),
		// A new module of the course, on the peer's origin.
		mallory.Activity("Create", map[string]any{"object": map[string]any{
			"id": peer.URL + "/modules/1", "type": "Article", "context": courseIRI, "name": "Planted", "content": "<p>evil</p>"}}),
		// A module deleted by another actor.
		mallory.Activity("Delete", map[string]any{"object": moduleIRI}),
	}
	for _, act := range hostile {
		if status, body := mallory.Post(ctx, b.urls.SharedInbox(), peer.JSON(act), peertest.SignOptions{}); status != http.StatusAccepted {
			t.Fatalf("%s: %d %s", act["type"], status, body)
		}
	}
	// Claiming to be the course while signing with another key is refused
	// at the door.
	forged := mallory.Activity("Update", map[string]any{"actor": courseIRI, "id": courseIRI + "#forged",
		"object": map[string]any{"id": courseIRI, "type": "Group", "name": "Forged"}})
	if status, _ := mallory.Post(ctx, b.urls.SharedInbox(), peer.JSON(forged), peertest.SignOptions{}); status != http.StatusForbidden && status != http.StatusUnauthorized {
		t.Fatalf("forged course Update: %d, want 401 or 403", status)
	}
	eventually(t, "the hostile activities applied", 20*time.Second, func() (bool, error) {
		var pending int
		err := b.pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities WHERE actor_iri = $1 AND processed_at IS NULL`, mallory.IRI).Scan(&pending)
		var seen int
		if err == nil {
			err = b.pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities WHERE actor_iri = $1`, mallory.IRI).Scan(&seen)
		}
		return pending == 0 && seen == len(hostile), err
	})
	cc, err := b.courses.Cohosted(ctx, b.pool, courseIRI)
	if err != nil || cc.Name != "Intro to Go" {
		t.Fatalf("mirrored course after the hostile Update: %q (%v)", cc.Name, err)
	}
	mods := b.mirrorModules(t, courseIRI)
	if len(mods) != 1 || mods[0].IRI != moduleIRI || mods[0].Title != "Types" {
		t.Fatalf("mirrored syllabus after the hostile activities: %+v", mods)
	}
	if status, body := b.get(t, "/cohosted?iri="+url.QueryEscape(courseIRI), "text/html"); status != http.StatusOK || strings.Contains(string(body), "Hijacked") || strings.Contains(string(body), "Planted") {
		t.Fatalf("B's page after the hostile activities: %d\n%s", status, body)
	}
}

// The command line co-hosts a course, lists it and stops co-hosting it;
// the running instance's workers send the Follow and its Undo.
func TestCohostCommandLine(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	b := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a, b)
	a.createUser(t, "olga")
	course, err := a.actions.CreateCourse(ctx, a.user(t, "olga"), courses.CourseDraft{Slug: "intro-go", Title: "Intro to Go"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.actions.AddModule(ctx, a.user(t, "olga"), course, courses.ModuleDraft{Title: "Types", Body: "Values have types."}); err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	db := []string{"--database-url", b.pool.Config().ConnString(), "--log-level", "warn", "--dev", "--host", b.addr}
	cli := func(args ...string) (string, error) {
		t.Helper()
		stdout, _, err := runCLI(t, "", append(args, db...)...)
		return stdout, err
	}
	if out, err := cli("course", "cohost", "@intro-go@"+a.addr); err != nil || !strings.Contains(out, courseIRI) {
		t.Fatalf("course cohost: %q %v", out, err)
	}
	if _, err := cli("course", "cohost", courseIRI); err == nil {
		t.Fatal("co-hosting twice from the command line succeeded")
	}
	if _, err := cli("course", "cohost", "@nothing@"+a.addr); err == nil {
		t.Fatal("co-hosting an unknown course succeeded")
	}
	eventually(t, "A's Accept", 20*time.Second, func() (bool, error) {
		out, err := cli("course", "cohosted")
		return strings.Contains(out, courseIRI) && strings.Contains(out, "accepted"), err
	})
	if mods := b.mirrorModules(t, courseIRI); len(mods) != 1 || mods[0].Title != "Types" {
		t.Fatalf("mirror after the command: %+v", mods)
	}
	if out, err := cli("course", "uncohost", courseIRI); err != nil || !strings.Contains(out, "stopped") {
		t.Fatalf("course uncohost: %q %v", out, err)
	}
	eventually(t, "A forgets the co-host", 20*time.Second, func() (bool, error) {
		cs, err := a.courses.CohostsOf(ctx, a.pool, course.ID)
		return len(cs) == 0, err
	})
	if out, _ := cli("course", "cohosted"); strings.Contains(out, courseIRI) {
		t.Fatalf("cohosted after uncohost: %q", out)
	}
}
