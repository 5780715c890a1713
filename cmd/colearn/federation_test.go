package main

// Federation between real instances: each test instance is the wiring of
// `colearn serve` (newInstance) on its own database and its own loopback
// port, and instances talk to each other through real HTTP with real
// signatures.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/pgtest"
)

// TestMain gives the package's tests a private PostgreSQL cluster.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testInstance is one colearn instance served on 127.0.0.1.
type testInstance struct {
	*instance
	addr string // 127.0.0.1:port, also the instance's host

	mu  sync.Mutex
	srv *http.Server
}

// testInstanceOptions change what startInstance configures.
type testInstanceOptions struct {
	AuthorizedFetch bool
	// RetryDelay replaces the delivery backoff (two days of retries) with
	// a fixed short wait.
	RetryDelay time.Duration
	// InboxBacklog is --inbox-backlog; 0, the default here, never refuses.
	InboxBacklog int64
}

// startInstance runs an instance on a fresh database and a loopback port
// until the test ends.
func startInstance(t *testing.T, opts testInstanceOptions) *testInstance {
	t.Helper()
	pool := pgtest.NewPool(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg := config{
		Host:            addr,
		Dev:             true,
		SignatureWindow: time.Hour,
		LogLevel:        "warn",
		AuthorizedFetch: opts.AuthorizedFetch,
		InboxBacklog:    opts.InboxBacklog,
	}
	if opts.RetryDelay > 0 {
		cfg.retryDelay = func(int) time.Duration { return opts.RetryDelay }
	}
	log, err := newLogger(cfg.LogLevel, testLogWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	// A fresh instance is invitation-only; the tests' people sign up freely.
	// Set before the instance starts, so that no change notice is sent
	// before its document cache listens (a test waiting for the cache to
	// settle would wait for that notice in vain).
	if _, err := pool.Exec(t.Context(), `INSERT INTO instance_settings (key, value) VALUES ('registrations', $1)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, string(courses.RegistrationsOpen)); err != nil {
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
		in.Close()
	})
	return ti
}

// serve answers HTTP on ln until down.
func (ti *testInstance) serve(t *testing.T, ln net.Listener) {
	srv := &http.Server{Handler: ti.handler, ReadHeaderTimeout: 10 * time.Second}
	ti.mu.Lock()
	ti.srv = srv
	ti.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve %s: %v", ti.addr, err)
		}
	}()
}

// down stops answering HTTP, as a server that went away: connections are
// refused until up. The instance's workers keep running.
func (ti *testInstance) down(t *testing.T) {
	ti.mu.Lock()
	srv := ti.srv
	ti.srv = nil
	ti.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("shut down %s: %v", ti.addr, err)
	}
}

// up answers HTTP again on the same address.
func (ti *testInstance) up(t *testing.T) {
	ln, err := net.Listen("tcp", ti.addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", ti.addr, err)
	}
	ti.serve(t, ln)
}

// testLogWriter sends an instance's log to the test's log.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// createUser makes a local account with its keys, as `colearn user create`
// does, and returns its actor keys.
func (ti *testInstance) createUser(t *testing.T, username string) federation.KeyPair {
	t.Helper()
	ctx := t.Context()
	_, err := createAccount(ctx, ti.pool, ti.keys,
		courses.NewUser{Username: username, Password: "correct horse battery staple"}, ti.courses.CreateUser)
	if err != nil {
		t.Fatalf("create %s on %s: %v", username, ti.addr, err)
	}
	kp, err := ti.keys.Get(ctx, username)
	if err != nil {
		t.Fatalf("keys of %s on %s: %v", username, ti.addr, err)
	}
	return kp
}

// handle is the @name@host handle of a local user.
func (ti *testInstance) handle(username string) string { return "@" + username + "@" + ti.addr }

// get makes an unsigned GET to the instance and returns the status and body.
func (ti *testInstance) get(t *testing.T, path, accept string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+ti.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, body
}

// knowsRemoteActor reports whether the instance has fetched and stored iri.
func (ti *testInstance) knowsRemoteActor(t *testing.T, iri string) bool {
	t.Helper()
	var n int
	if err := ti.pool.QueryRow(t.Context(), `SELECT count(*) FROM remote_actors WHERE iri = $1`, iri).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestFederationTwoInstances(t *testing.T) {
	t.Parallel()
	// Both instances require signed fetches, so every actor fetch below only
	// succeeds when it is signed with a key the other side can verify.
	a := startInstance(t, testInstanceOptions{AuthorizedFetch: true})
	b := startInstance(t, testInstanceOptions{AuthorizedFetch: true})
	aliceKeys := a.createUser(t, "alice")
	bobKeys := b.createUser(t, "bob")
	aliceIRI, bobIRI := a.urls.User("alice"), b.urls.User("bob")

	t.Run("UnsignedActorFetchRefused", func(t *testing.T) {
		for _, ti := range []*testInstance{a, b} {
			for _, name := range []string{"alice", "bob"} {
				status, body := ti.get(t, "/users/"+name, "application/activity+json")
				if status != http.StatusUnauthorized {
					t.Errorf("unsigned GET %s/users/%s: status %d, want 401; body %s", ti.addr, name, status, body)
				}
			}
			// The instance actor stays public: peers fetch the key they
			// verify signed fetches with from it.
			if status, body := ti.get(t, "/actor", "application/activity+json"); status != http.StatusOK {
				t.Errorf("unsigned GET %s/actor: status %d, want 200; body %s", ti.addr, status, body)
			}
		}
	})

	resolve := []struct {
		name     string
		from, to *testInstance
		user     string
		iri      string
		keys     federation.KeyPair
	}{
		{"AResolvesBob", a, b, "bob", bobIRI, bobKeys},
		{"BResolvesAlice", b, a, "alice", aliceIRI, aliceKeys},
	}
	for _, tc := range resolve {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.from.resolver.Handle(t.Context(), tc.to.handle(tc.user))
			if err != nil {
				t.Fatalf("resolve %s from %s: %v", tc.to.handle(tc.user), tc.from.addr, err)
			}
			if got.IRI != tc.iri {
				t.Errorf("IRI = %q, want %q", got.IRI, tc.iri)
			}
			if want := tc.iri + "/inbox"; got.Inbox != want {
				t.Errorf("inbox = %q, want %q", got.Inbox, want)
			}
			if want := tc.to.urls.SharedInbox(); got.SharedInbox != want {
				t.Errorf("shared inbox = %q, want %q", got.SharedInbox, want)
			}
			if want := federation.MainKey(tc.iri); got.KeyID != want {
				t.Errorf("key id = %q, want %q", got.KeyID, want)
			}
			if got.Key == nil || !got.Key.Equal(&tc.keys.RSA.PublicKey) {
				t.Errorf("resolved key is not %s's public key", tc.user)
			}
			// The fetch was signed by the resolving instance's actor: to
			// verify it, the other side fetched that actor's key.
			if instanceActor := tc.from.urls.InstanceActor(); !tc.to.knowsRemoteActor(t, instanceActor) {
				t.Errorf("%s never fetched %s, so the actor fetch was not signed by it", tc.to.addr, instanceActor)
			}
			if !tc.from.knowsRemoteActor(t, tc.iri) {
				t.Errorf("%s did not store the resolved actor %s", tc.from.addr, tc.iri)
			}

			// WebFinger round trip: the subject the server answers with is
			// the actor's preferredUsername at the actor's host.
			status, _ := tc.from.get(t, "/.well-known/webfinger?"+url.Values{"resource": {"acct:" + tc.user + "@" + tc.to.addr}}.Encode(), "")
			if status != http.StatusNotFound {
				t.Errorf("%s answered WebFinger for a user of %s with %d, want 404", tc.from.addr, tc.to.addr, status)
			}
			status, body := tc.to.get(t, "/.well-known/webfinger?"+url.Values{"resource": {"acct:" + tc.user + "@" + tc.to.addr}}.Encode(), "")
			if status != http.StatusOK {
				t.Fatalf("WebFinger: status %d, body %s", status, body)
			}
			jrd, err := federation.ParseJRD(body)
			if err != nil {
				t.Fatal(err)
			}
			if want := "acct:" + got.PreferredUsername + "@" + got.Host(); jrd.Subject != want {
				t.Errorf("WebFinger subject = %q, want preferredUsername@host %q", jrd.Subject, want)
			}
			if href, err := jrd.ActorLink(); err != nil || href != got.IRI {
				t.Errorf("WebFinger self link = %q, %v; want %q", href, err, got.IRI)
			}
		})
	}

	t.Run("DeliverCreateNote", func(t *testing.T) {
		ctx := t.Context()
		bob, err := a.resolver.Handle(ctx, b.handle("bob"))
		if err != nil {
			t.Fatal(err)
		}
		activityID := aliceIRI + "/statuses/1/activity"
		activity, err := json.Marshal(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams",
			"id":       activityID,
			"type":     "Create",
			"actor":    aliceIRI,
			"to":       []string{bob.IRI},
			"object": map[string]any{
				"id":           aliceIRI + "/statuses/1",
				"type":         "Note",
				"attributedTo": aliceIRI,
				"to":           []string{bob.IRI},
				"content":      "<p>Hello, Bob</p>",
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		signer := &federation.Signer{KeyID: federation.MainKey(aliceIRI), Key: aliceKeys.RSA}
		for i := range 2 {
			// The second delivery is a retry of the same activity: accepted,
			// and stored once.
			if err := a.client.Post(ctx, bob.Inbox, activity, signer); err != nil {
				t.Fatalf("delivery %d to %s: %v", i+1, bob.Inbox, err)
			}
			var n int
			var actor, typ, recipient string
			err := b.pool.QueryRow(ctx, `
				SELECT count(*) OVER (), actor_iri, type, recipient FROM inbox_activities WHERE activity_id = $1`,
				activityID).Scan(&n, &actor, &typ, &recipient)
			if err != nil {
				t.Fatalf("after delivery %d: inbox row of %s: %v", i+1, activityID, err)
			}
			if n != 1 || actor != aliceIRI || typ != "Create" || recipient != bobIRI {
				t.Errorf("after delivery %d: %d rows, actor %q, type %q, recipient %q; want 1, %q, Create, %q",
					i+1, n, actor, typ, recipient, aliceIRI, bobIRI)
			}
		}
		var total int
		if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities`).Scan(&total); err != nil {
			t.Fatal(err)
		}
		if total != 1 {
			t.Errorf("B's inbox holds %d activities, want 1", total)
		}
	})

	t.Run("DeliverySignedByAnotherActorRefused", func(t *testing.T) {
		ctx := t.Context()
		// bob's key does not belong to alice, the activity's actor.
		activity := fmt.Appendf(nil, `{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Like","actor":%q,"object":%q}`,
			aliceIRI+"/likes/1", aliceIRI, bobIRI)
		signer := &federation.Signer{KeyID: federation.MainKey(bobIRI), Key: bobKeys.RSA}
		err := a.client.Post(ctx, b.urls.SharedInbox(), activity, signer)
		var se *federation.StatusError
		if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
			t.Errorf("delivery signed with bob's key for alice's activity: %v, want 403", err)
		}
	})
}
