package inbox_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-fed/httpsig"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/inbox"
	"github.com/colearn/colearn/internal/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// remoteActor is an actor served by the remote test server.
type remoteActor struct {
	iri   string
	keyID string
	key   *rsa.PrivateKey
}

type bundle struct {
	t      *testing.T
	ctx    context.Context
	pool   *pgxpool.Pool
	local  *httptest.Server
	urls   federation.URLs
	remote *httptest.Server
	// remoteHits counts requests the remote server answered.
	remoteHits *atomic.Int64
	mallory    remoteActor
	bob        remoteActor
	seq        atomic.Int64
}

// setup starts a local instance (the inbox under test, on real Postgres) with
// a user alice, and a remote server publishing the actors mallory and bob.
func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := t.Context()
	pool := pgtest.NewPool(t)
	b := &bundle{t: t, ctx: ctx, pool: pool, remoteHits: new(atomic.Int64)}

	// The remote server: actor documents for mallory and bob, 404 otherwise.
	docs := map[string][]byte{}
	b.remote = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.remoteHits.Add(1)
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		w.Write(doc)
	}))
	remoteBase := "http://" + b.remote.Listener.Addr().String()
	for _, a := range []struct {
		name string
		dst  *remoteActor
	}{{"mallory", &b.mallory}, {"bob", &b.bob}} {
		kp, err := federation.GenerateKeyPair()
		if err != nil {
			t.Fatal(err)
		}
		iri := remoteBase + "/users/" + a.name
		*a.dst = remoteActor{iri: iri, keyID: iri + "#main-key", key: kp.RSA}
		doc, err := json.Marshal(map[string]any{
			"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
			"id":                iri,
			"type":              "Person",
			"preferredUsername": a.name,
			"inbox":             iri + "/inbox",
			"publicKey":         map[string]any{"id": iri + "#main-key", "owner": iri, "publicKeyPem": kp.PublicKeyPEM()},
		})
		if err != nil {
			t.Fatal(err)
		}
		docs["/users/"+a.name] = doc
	}
	b.remote.Start()
	t.Cleanup(b.remote.Close)

	// The local instance.
	b.local = httptest.NewUnstartedServer(nil)
	b.urls = federation.URLs{Scheme: "http", Host: b.local.Listener.Addr().String()}
	keys := federation.NewKeyStore(pool)
	if err := keys.EnsureInstanceKeys(ctx); err != nil {
		t.Fatal(err)
	}
	store := courses.NewStore(pool)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := store.CreateUser(ctx, tx, courses.NewUser{Username: "alice", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Create(ctx, tx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	client := federation.NewClient(federation.ClientConfig{AllowPrivate: true, Timeout: 5 * time.Second})
	resolver := federation.NewResolver(pool, client, b.urls, keys)
	h := &inbox.Handler{
		Pool:       pool,
		Verifier:   &federation.Verifier{Keys: resolver, Host: b.urls.Host},
		Recipients: store,
		URLs:       b.urls,
	}
	r := chi.NewRouter()
	h.Routes(r)
	b.local.Config.Handler = r
	b.local.Start()
	t.Cleanup(b.local.Close)
	return b
}

// note returns a Create(Note) by actor, with an id on the actor's origin
// unless id is given.
func (b *bundle) note(actor string, id string) []byte {
	b.t.Helper()
	if id == "" {
		id = fmt.Sprintf("%s/activities/%d", actor, b.seq.Add(1))
	}
	return b.activity(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id,
		"type":     "Create",
		"actor":    actor,
		"to":       []string{"https://www.w3.org/ns/activitystreams#Public"},
		"object": map[string]any{
			"id":           id + "/note",
			"type":         "Note",
			"attributedTo": actor,
			"content":      "<p>hello</p>",
		},
	})
}

func (b *bundle) activity(v map[string]any) []byte {
	b.t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		b.t.Fatal(err)
	}
	return body
}

// signOpts says how to sign a request; the zero value signs the way the
// federation.Signer does.
type signOpts struct {
	headers []string          // default (request-target) host date digest
	date    time.Time         // default now
	algo    httpsig.Algorithm // default rsa-sha256
	// digestOf, when not nil, is the body the Digest is computed from.
	digestOf []byte
	// host is the host that is signed and sent (default the instance's).
	host string
}

// post builds a POST of body to path on the local instance, signed by a with
// opts (a == nil: unsigned).
func (b *bundle) post(path string, body []byte, a *remoteActor, opts signOpts) *http.Request {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.ctx, http.MethodPost, b.local.URL+path, bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/activity+json")
	if a == nil {
		return req
	}
	if opts.headers == nil {
		opts.headers = []string{httpsig.RequestTarget, "host", "date", "digest"}
	}
	if opts.date.IsZero() {
		opts.date = time.Now()
	}
	if opts.algo == "" {
		opts.algo = httpsig.RSA_SHA256
	}
	if opts.digestOf == nil {
		opts.digestOf = body
	}
	req.Header.Set("Date", opts.date.UTC().Format(http.TimeFormat))
	if opts.host == "" {
		opts.host = req.URL.Host
	}
	req.Header.Set("Host", opts.host)
	req.Host = opts.host
	signer, _, err := httpsig.NewSigner([]httpsig.Algorithm{opts.algo}, httpsig.DigestSha256, opts.headers, httpsig.Signature, 0)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := signer.SignRequest(a.key, a.keyID, req, opts.digestOf); err != nil {
		b.t.Fatal(err)
	}
	return req
}

// signed is a POST signed by a with federation.Signer, the production path.
func (b *bundle) signed(path string, body []byte, a remoteActor) *http.Request {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.ctx, http.MethodPost, b.local.URL+path, bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/activity+json")
	if err := (federation.Signer{KeyID: a.keyID, Key: a.key}).Sign(req, body); err != nil {
		b.t.Fatal(err)
	}
	return req
}

type response struct {
	status int
	body   string
}

// send sends req with body (the body may differ from what was signed).
func (b *bundle) send(req *http.Request, body []byte) response {
	b.t.Helper()
	r := req.Clone(b.ctx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = nil
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(got)}
}

func (b *bundle) count(sql string, args ...any) int {
	b.t.Helper()
	var n int
	if err := b.pool.QueryRow(b.ctx, sql, args...).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

func (b *bundle) rows() int { return b.count(`SELECT count(*) FROM inbox_activities`) }

// TestInboxRefusesForgeries sends requests whose signatures must not
// verify: each gets 401 with the class of its reason and a fixed hint (never
// an address or a dial error) and stores nothing.
func TestInboxRefusesForgeries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mallory
	tests := []struct {
		name   string
		reason string
		// build returns the request and the body actually sent.
		build func() (*http.Request, []byte)
	}{
		{"unsigned", "missing", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			return b.post("/inbox", body, nil, signOpts{}), body
		}},
		{"unknown key", "key", func() (*http.Request, []byte) {
			ghost := remoteActor{iri: b.remote.URL + "/users/ghost", keyID: b.remote.URL + "/users/ghost#main-key", key: m.key}
			body := b.note(ghost.iri, "")
			return b.post("/inbox", body, &ghost, signOpts{}), body
		}},
		{"body changed after signing", "digest", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			req := b.post("/inbox", body, &m, signOpts{})
			return req, bytes.Replace(body, []byte("hello"), []byte("pwned"), 1)
		}},
		{"body and digest changed after signing", "invalid", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			req := b.post("/inbox", body, &m, signOpts{})
			forged := bytes.Replace(body, []byte("hello"), []byte("pwned"), 1)
			other := b.post("/inbox", forged, &m, signOpts{})
			req.Header.Set("Digest", other.Header.Get("Digest"))
			return req, forged
		}},
		{"digest of another body, validly signed", "digest", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			return b.post("/inbox", body, &m, signOpts{digestOf: []byte(`{"other":true}`)}), body
		}},
		{"date two hours old", "date", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			return b.post("/inbox", body, &m, signOpts{date: time.Now().Add(-2 * time.Hour)}), body
		}},
		{"date two hours ahead", "date", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			return b.post("/inbox", body, &m, signOpts{date: time.Now().Add(2 * time.Hour)}), body
		}},
		{"host not signed", "headers", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			return b.post("/inbox", body, &m, signOpts{headers: []string{httpsig.RequestTarget, "date", "digest"}}), body
		}},
		{"request-target not signed", "headers", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			return b.post("/inbox", body, &m, signOpts{headers: []string{"host", "date", "digest"}}), body
		}},
		{"digest not signed", "headers", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			return b.post("/inbox", body, &m, signOpts{headers: []string{httpsig.RequestTarget, "host", "date"}}), body
		}},
		{"signed for another host", "host", func() (*http.Request, []byte) {
			// A signature captured at evil.example, replayed here in time.
			body := b.note(m.iri, "")
			return b.post("/inbox", body, &m, signOpts{host: "evil.example"}), body
		}},
		{"key on a server that is down", "key", func() (*http.Request, []byte) {
			down := remoteActor{iri: "http://127.0.0.1:1/users/ghost", keyID: "http://127.0.0.1:1/users/ghost#main-key", key: m.key}
			body := b.note(down.iri, "")
			return b.post("/inbox", body, &down, signOpts{}), body
		}},
		{"rfc 9421 only", "rfc9421", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			req := b.post("/inbox", body, nil, signOpts{})
			req.Header.Set("Signature-Input", fmt.Sprintf(`sig1=("@method" "@target-uri" "content-digest");created=%d;keyid="%s";alg="rsa-v1_5-sha256"`, time.Now().Unix(), m.keyID))
			req.Header.Set("Signature", "sig1=:dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ==:")
			return req, body
		}},
		{"rsa-sha512 declared", "algorithm", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			req := b.post("/inbox", body, &m, signOpts{})
			req.Header.Set("Signature", strings.Replace(req.Header.Get("Signature"), `algorithm="hs2019"`, `algorithm="rsa-sha512"`, 1))
			return req, body
		}},
		{"rsa-sha512 signature labelled hs2019", "invalid", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			return b.post("/inbox", body, &m, signOpts{algo: httpsig.RSA_SHA512}), body
		}},
		{"signature of another path", "invalid", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			req := b.post("/users/alice/inbox", body, &m, signOpts{})
			req.URL.Path = "/inbox"
			return req, body
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, body := tt.build()
			got := b.send(req, body)
			if got.status != http.StatusUnauthorized {
				t.Fatalf("status %d (%s), want 401", got.status, got.body)
			}
			if want := federation.RefusalText(tt.reason); strings.TrimSpace(got.body) != want {
				t.Errorf("body %q, want %q", got.body, want)
			}
			for _, leak := range []string{"127.0.0.1", "dial", "connect", "refused", "lookup", b.remote.Listener.Addr().String()} {
				if strings.Contains(got.body, leak) {
					t.Errorf("body %q gives away %q", got.body, leak)
				}
			}
			if n := b.rows(); n != 0 {
				t.Errorf("%d activities stored, want 0", n)
			}
		})
	}
}

// TestInboxAnswers covers the answers other than 401.
func TestInboxAnswers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mallory
	tests := []struct {
		name   string
		path   string
		body   func() []byte
		sign   bool
		status int
		stored int // rows with the activity's id afterwards
	}{
		{"over 1 MiB", "/inbox", func() []byte { return bytes.Repeat([]byte(" "), inbox.MaxBody+1) }, false, http.StatusRequestEntityTooLarge, 0},
		{"over 1 MiB, signed", "/inbox", func() []byte {
			return append(b.note(m.iri, ""), bytes.Repeat([]byte(" "), inbox.MaxBody)...)
		}, true, http.StatusRequestEntityTooLarge, 0},
		{"malformed JSON", "/inbox", func() []byte { return []byte(`{"id": "x", "type": "Create",`) }, true, http.StatusBadRequest, 0},
		{"no actor", "/inbox", func() []byte {
			return b.activity(map[string]any{"id": m.iri + "/activities/noactor", "type": "Create"})
		}, true, http.StatusBadRequest, 0},
		{"unknown type", "/inbox", func() []byte {
			return b.activity(map[string]any{"id": m.iri + "/activities/wibble", "type": "Wibble", "actor": m.iri})
		}, true, http.StatusAccepted, 0},
		{"unknown user", "/users/nobody/inbox", func() []byte { return b.note(m.iri, "") }, true, http.StatusNotFound, 0},
		{"valid, shared inbox", "/inbox", func() []byte { return b.note(m.iri, "") }, true, http.StatusAccepted, 1},
		{"valid, personal inbox", "/users/alice/inbox", func() []byte { return b.note(m.iri, "") }, true, http.StatusAccepted, 1},
		{"valid, actor embedded as object", "/inbox", func() []byte {
			return b.activity(map[string]any{"id": m.iri + "/activities/embedded", "type": "Like", "actor": map[string]any{"id": m.iri, "type": "Person"}, "object": m.iri})
		}, true, http.StatusAccepted, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := tt.body()
			req := b.post(tt.path, body, nil, signOpts{})
			if tt.sign {
				req = b.signed(tt.path, body, m)
			}
			got := b.send(req, body)
			if got.status != tt.status {
				t.Fatalf("status %d (%s), want %d", got.status, got.body, tt.status)
			}
			var env struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(body, &env) == nil && env.ID != "" {
				if n := b.count(`SELECT count(*) FROM inbox_activities WHERE activity_id = $1`, env.ID); n != tt.stored {
					t.Errorf("%d rows for %s, want %d", n, env.ID, tt.stored)
				}
			}
		})
	}
}

// TestInboxStoresOnce shows a replayed delivery (the very same signed
// request) is acknowledged and not stored twice, and that the recipient of a
// personal inbox is recorded.
func TestInboxStoresOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := b.note(b.mallory.iri, "")
	req := b.signed("/users/alice/inbox", body, b.mallory)
	for i := range 3 {
		if got := b.send(req, body); got.status != http.StatusAccepted {
			t.Fatalf("delivery %d: status %d (%s), want 202", i, got.status, got.body)
		}
	}
	if n := b.rows(); n != 1 {
		t.Fatalf("%d rows after 3 deliveries of one activity, want 1", n)
	}
	var actor, typ, recipient string
	err := b.pool.QueryRow(b.ctx, `SELECT actor_iri, type, recipient FROM inbox_activities`).Scan(&actor, &typ, &recipient)
	if err != nil {
		t.Fatal(err)
	}
	if actor != b.mallory.iri || typ != "Create" || recipient != b.urls.User("alice") {
		t.Errorf("stored actor %q type %q recipient %q", actor, typ, recipient)
	}
	// The key was fetched once, then served from the cache.
	if n := b.remoteHits.Load(); n != 1 {
		t.Errorf("remote server answered %d requests, want 1 (the actor fetch)", n)
	}
}

// TestInboxAlgorithms shows which declared algorithms are accepted: the
// signature is RSA-SHA256 in each case, only the label differs.
func TestInboxAlgorithms(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mallory
	tests := []struct {
		label  string // "" drops the algorithm parameter
		status int
	}{
		{"hs2019", http.StatusAccepted},
		{"rsa-sha256", http.StatusAccepted},
		{"", http.StatusAccepted},
		{"rsa-sha512", http.StatusUnauthorized},
		{"hmac-sha256", http.StatusUnauthorized},
		{"ed25519", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run("algorithm="+tt.label, func(t *testing.T) {
			t.Parallel()
			body := b.note(m.iri, "")
			req := b.post("/inbox", body, &m, signOpts{})
			repl := `algorithm="` + tt.label + `",`
			if tt.label == "" {
				repl = ""
			}
			sig := req.Header.Get("Signature")
			if !strings.Contains(sig, `algorithm="hs2019",`) {
				t.Fatalf("httpsig no longer labels signatures hs2019: %s", sig)
			}
			req.Header.Set("Signature", strings.Replace(sig, `algorithm="hs2019",`, repl, 1))
			got := b.send(req, body)
			if got.status != tt.status {
				t.Fatalf("status %d (%s), want %d", got.status, got.body, tt.status)
			}
			var env struct{ ID string }
			json.Unmarshal(body, &env)
			want := 0
			if tt.status == http.StatusAccepted {
				want = 1
			}
			if n := b.count(`SELECT count(*) FROM inbox_activities WHERE activity_id = $1`, env.ID); n != want {
				t.Errorf("%d rows, want %d", n, want)
			}
		})
	}
}
