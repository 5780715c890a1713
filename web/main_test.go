package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/pgtest"
	"github.com/colearn/colearn/outbox"
	"github.com/colearn/colearn/web"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const goodPassword = "correct horse battery"

type bundle struct {
	t       *testing.T
	ctx     context.Context
	pool    *pgxpool.Pool
	store   *courses.Store
	actions *outbox.Actions
	urls    federation.URLs
	srv     *httptest.Server
	host    string
}

// setup starts the pages on a real HTTP server with a fresh database. The
// router also mounts /users/{name} and /courses/{slug} outside Routes, the
// way the federation routes call ProfileHTML and CoursePage. The actions
// publish into an outbox that is never started: activities are stored, and
// nothing is delivered.
func setup(t *testing.T) *bundle {
	t.Helper()
	return setupThrottled(t, web.Throttle{})
}

// setupThrottled is setup with th as the sign-in throttle. Registrations
// are opened (a fresh instance's are invitation-only).
func setupThrottled(t *testing.T, th web.Throttle) *bundle {
	t.Helper()
	return setupOn(t, th, pgtest.NewPool(t))
}

// setupOn is setupThrottled on the database of pool.
func setupOn(t *testing.T, th web.Throttle, pool *pgxpool.Pool) *bundle {
	t.Helper()
	store := courses.NewStore(pool)
	if err := store.SetRegistrations(t.Context(), courses.RegistrationsOpen); err != nil {
		t.Fatal(err)
	}
	mux := chi.NewRouter()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	host := srv.Listener.Addr().String()
	urls := federation.URLs{Scheme: "http", Host: host}
	keys := federation.NewKeyStore(pool)
	if err := keys.EnsureInstanceKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	client := federation.NewClient(federation.ClientConfig{AllowPrivate: true})
	ob, err := outbox.New(outbox.Config{Pool: pool, Keys: keys, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	actions := &outbox.Actions{
		Pool: pool, Courses: store, Keys: keys, Sender: &outbox.Sender{Outbox: ob, URLs: urls},
		Resolver: federation.NewResolver(pool, client, urls, keys),
	}
	h := web.New(web.Config{
		Pool:  pool,
		Store: store,
		RegisterFunc: func(ctx context.Context, nu courses.NewUser) (courses.User, error) {
			tx, err := pool.Begin(ctx)
			if err != nil {
				return courses.User{}, err
			}
			defer tx.Rollback(ctx)
			u, err := store.Register(ctx, tx, nu)
			if err != nil {
				return courses.User{}, err
			}
			return u, tx.Commit(ctx)
		},
		Actions:  actions,
		URLs:     urls,
		Host:     host,
		Throttle: th,
	})
	t.Cleanup(h.Close)
	h.Routes(mux)
	mux.Get("/users/{name}", func(w http.ResponseWriter, r *http.Request) {
		h.ProfileHTML(w, r, chi.URLParam(r, "name"))
	})
	mux.Get("/courses/{slug}", func(w http.ResponseWriter, r *http.Request) {
		h.CoursePage(w, r, chi.URLParam(r, "slug"))
	})
	mux.Get("/courses/{slug}/modules/{id}", h.ModulePage)
	return &bundle{t: t, ctx: t.Context(), pool: pool, store: store, actions: actions, urls: urls, srv: srv, host: host}
}

// client is a browser: it keeps cookies and does not follow redirects, so
// that tests can see them.
func (b *bundle) client() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *bundle) do(c *http.Client, method, path string, form url.Values, header map[string]string) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.ctx, method, b.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return b.send(c, req)
}

// send sends req as c and reads the whole response.
func (b *bundle) send(c *http.Client, req *http.Request) response {
	b.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: resp.StatusCode, body: string(raw), location: resp.Header.Get("Location"), header: resp.Header}
}

func (b *bundle) get(c *http.Client, path string) response { return b.do(c, "GET", path, nil, nil) }

func (b *bundle) post(c *http.Client, path string, form url.Values) response {
	return b.do(c, "POST", path, form, nil)
}

func (b *bundle) count(sql string, args ...any) int {
	b.t.Helper()
	var n int
	if err := b.pool.QueryRow(b.ctx, sql, args...).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

func (b *bundle) createUser(nu courses.NewUser) courses.User {
	b.t.Helper()
	tx, err := b.pool.Begin(b.ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	defer tx.Rollback(b.ctx)
	u, err := b.store.CreateUser(b.ctx, tx, nu)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := tx.Commit(b.ctx); err != nil {
		b.t.Fatal(err)
	}
	return u
}

// requestRemote records username's request to join the remote course
// (its Join sent, no answer yet), as join id.
func (b *bundle) requestRemote(username, course, id string) {
	b.t.Helper()
	u, err := b.store.UserByUsername(b.ctx, username)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := b.store.RequestEnrollment(b.ctx, b.pool, u.ID, course, id); err != nil {
		b.t.Fatal(err)
	}
}

// acceptRemote records the remote course's Accept of the join id.
func (b *bundle) acceptRemote(course, id string) {
	b.t.Helper()
	if _, err := b.store.AnswerEnrollment(b.ctx, b.pool, course, id, true); err != nil {
		b.t.Fatal(err)
	}
}

// signedIn returns a client signed in as a new user.
func (b *bundle) signedIn(username string, admin bool) *http.Client {
	b.t.Helper()
	b.createUser(courses.NewUser{Username: username, Password: goodPassword, IsAdmin: admin})
	c := b.client()
	if r := b.post(c, "/signin", url.Values{"username": {username}, "password": {goodPassword}}); r.status != http.StatusSeeOther {
		b.t.Fatalf("sign in %s: %d %s", username, r.status, r.body)
	}
	return c
}

func mustContain(t *testing.T, r response, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.body, w) {
			t.Fatalf("status %d, body lacks %q:\n%s", r.status, w, r.body)
		}
	}
}

func mustNotContain(t *testing.T, r response, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(r.body, w) {
			t.Fatalf("body contains %q:\n%s", w, r.body)
		}
	}
}

// upload posts archive to the import form as c, with slug as the handle.
func (b *bundle) upload(c *http.Client, archive []byte, slug string) response {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("archive", "course.tar.gz")
	if err != nil {
		b.t.Fatal(err)
	}
	fw.Write(archive)
	mw.WriteField("slug", slug)
	mw.Close()
	req, err := http.NewRequestWithContext(b.ctx, "POST", b.srv.URL+"/courses/new/import", &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.send(c, req)
}
