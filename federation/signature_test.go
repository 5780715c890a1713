package federation_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-fed/httpsig"

	"github.com/colearn/colearn/federation"
)

// staticKeys is a KeyResolver over a map. When next holds a key for an id, a
// refresh returns it (a rotated key); otherwise refresh returns the current
// one.
type staticKeys struct {
	mu        sync.Mutex
	cur, next map[string]federation.PublicKey
	refreshes int
}

func (s *staticKeys) ResolveKey(_ context.Context, keyID string, refresh bool) (federation.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if refresh {
		s.refreshes++
		if k, ok := s.next[keyID]; ok {
			s.cur[keyID] = k
			return k, nil
		}
	}
	k, ok := s.cur[keyID]
	if !ok {
		return federation.PublicKey{}, federation.ErrNotFound
	}
	return k, nil
}

const testKeyID = "https://remote.example/users/mallory#main-key"

func newKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	kp, err := federation.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	return kp.RSA
}

func pubKey(k *rsa.PrivateKey) federation.PublicKey {
	return federation.PublicKey{ID: testKeyID, Owner: "https://remote.example/users/mallory", Key: &k.PublicKey}
}

// serverSide turns a client request into what a server handler receives
// (Host moved out of the header map, RequestURI set).
func serverSide(t *testing.T, r *http.Request, body []byte) *http.Request {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var sr *http.Request
	if rd != nil {
		sr = httptest.NewRequest(r.Method, r.URL.String(), rd)
	} else {
		sr = httptest.NewRequest(r.Method, r.URL.String(), nil)
	}
	sr.Host = r.URL.Host
	for k, v := range r.Header {
		if k != "Host" {
			sr.Header[k] = v
		}
	}
	return sr
}

func signedRequest(t *testing.T, key *rsa.PrivateKey, method, url string, body []byte) *http.Request {
	t.Helper()
	var r *http.Request
	var err error
	if body != nil {
		r, err = http.NewRequest(method, url, bytes.NewReader(body))
	} else {
		r, err = http.NewRequest(method, url, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := (federation.Signer{KeyID: testKeyID, Key: key}).Sign(r, body); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	other := newKey(t)
	body := []byte(`{"type":"Follow"}`)
	tests := []struct {
		name   string
		method string
		url    string
		body   []byte
		// alter changes the received request before verification.
		alter  func(r *http.Request)
		reason string // "" means accepted
	}{
		{"GET", http.MethodGet, "https://colearn.example/users/alice", nil, nil, ""},
		{"POST", http.MethodPost, "https://colearn.example/inbox", body, nil, ""},
		{"GET with query", http.MethodGet, "https://colearn.example/users/alice/outbox?page=2", nil, nil, ""},
		{"GET with port", http.MethodGet, "https://colearn.example:8443/users/alice", nil, nil, ""},
		{"other path", http.MethodGet, "https://colearn.example/users/alice", nil, func(r *http.Request) { r.URL.Path = "/users/bob" }, "invalid"},
		{"other host", http.MethodGet, "https://colearn.example/users/alice", nil, func(r *http.Request) { r.Host = "other.example" }, "invalid"},
		{"other method", http.MethodGet, "https://colearn.example/users/alice", nil, func(r *http.Request) { r.Method = http.MethodDelete }, "invalid"},
		{"date changed", http.MethodGet, "https://colearn.example/users/alice", nil, func(r *http.Request) {
			r.Header.Set("Date", time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat))
		}, "invalid"},
		{"date missing", http.MethodGet, "https://colearn.example/users/alice", nil, func(r *http.Request) { r.Header.Del("Date") }, "date"},
		{"date not an HTTP date", http.MethodGet, "https://colearn.example/users/alice", nil, func(r *http.Request) { r.Header.Set("Date", "yesterday") }, "date"},
		{"digest missing", http.MethodPost, "https://colearn.example/inbox", body, func(r *http.Request) { r.Header.Del("Digest") }, "digest"},
		{"digest not base64", http.MethodPost, "https://colearn.example/inbox", body, func(r *http.Request) { r.Header.Set("Digest", "SHA-256=???") }, "digest"},
		{"digest SHA-512 only", http.MethodPost, "https://colearn.example/inbox", body, func(r *http.Request) { r.Header.Set("Digest", "SHA-512=AAAA") }, "digest"},
		{"signature in Authorization", http.MethodGet, "https://colearn.example/users/alice", nil, func(r *http.Request) {
			r.Header.Set("Authorization", "Signature "+r.Header.Get("Signature"))
			r.Header.Del("Signature")
		}, ""},
		{"signature bytes altered", http.MethodGet, "https://colearn.example/users/alice", nil, func(r *http.Request) {
			s := r.Header.Get("Signature")
			i := strings.Index(s, `signature="`) + len(`signature="`)
			c := byte('A')
			if s[i] == 'A' {
				c = 'B'
			}
			r.Header.Set("Signature", s[:i]+string(c)+s[i+1:])
		}, "invalid"},
		{"malformed header", http.MethodGet, "https://colearn.example/users/alice", nil, func(r *http.Request) {
			r.Header.Set("Signature", "keyId=unquoted")
		}, "malformed"},
		{"unknown key", http.MethodGet, "https://colearn.example/users/alice", nil, func(r *http.Request) {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "mallory", "ghost", 1))
		}, "key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := &federation.Verifier{Keys: &staticKeys{cur: map[string]federation.PublicKey{testKeyID: pubKey(key)}}}
			r := serverSide(t, signedRequest(t, key, tt.method, tt.url, tt.body), tt.body)
			if tt.alter != nil {
				tt.alter(r)
			}
			got, err := v.Verify(t.Context(), r, tt.body)
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got.ID != testKeyID {
					t.Errorf("verified key %q, want %q", got.ID, testKeyID)
				}
				return
			}
			var se *federation.SignatureError
			if !errors.As(err, &se) || se.Reason != tt.reason {
				t.Fatalf("Verify = %v, want a SignatureError with reason %q", err, tt.reason)
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		t.Parallel()
		v := &federation.Verifier{Keys: &staticKeys{cur: map[string]federation.PublicKey{testKeyID: pubKey(other)}}}
		r := serverSide(t, signedRequest(t, key, http.MethodGet, "https://colearn.example/users/alice", nil), nil)
		if _, err := v.Verify(t.Context(), r, nil); err == nil {
			t.Fatal("verified with the wrong key")
		}
	})
}

// TestVerifyQuery shows both ways peers sign a URL with a query verify:
// (request-target) with the query (Signer's way, Mastodon 4.2+'s and
// Fedify's), and without it (older Mastodon).
func TestVerifyQuery(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	const url = "https://colearn.example/users/alice/outbox?page=2&min_id=7"
	tests := []struct {
		name      string
		withQuery bool
		received  string // query the server sees
		ok        bool
	}{
		{"signed without the query", false, "page=2&min_id=7", true},
		{"signed with the query", true, "page=2&min_id=7", true},
		{"signed with the query, query changed", true, "page=3&min_id=7", false},
		// Signing without the query leaves it unprotected, as at Mastodon.
		{"signed without the query, query changed", false, "page=3", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := &federation.Verifier{Keys: &staticKeys{cur: map[string]federation.PublicKey{testKeyID: pubKey(key)}}}
			var c *http.Request
			if tt.withQuery {
				c = signedRequest(t, key, http.MethodGet, url, nil)
			} else {
				c = signedWithoutQuery(t, key, url)
			}
			r := serverSide(t, c, nil)
			r.URL.RawQuery = tt.received
			_, err := v.Verify(t.Context(), r, nil)
			if tt.ok && err != nil {
				t.Fatal(err)
			}
			if !tt.ok && err == nil {
				t.Fatal("verified")
			}
			if r.URL.RawQuery != tt.received {
				t.Errorf("Verify changed the query to %q", r.URL.RawQuery)
			}
		})
	}
}

// signedWithoutQuery signs a GET with go-fed/httpsig directly, leaving the
// query out of (request-target) as Mastodon before 4.2 did.
func signedWithoutQuery(t *testing.T, key *rsa.PrivateKey, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := r.URL.RawQuery
	r.URL.RawQuery = ""
	defer func() { r.URL.RawQuery = q }()
	r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	r.Header.Set("Host", r.URL.Host)
	s, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256,
		[]string{httpsig.RequestTarget, "host", "date"}, httpsig.Signature, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SignRequest(key, testKeyID, r, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyKeyRotation(t *testing.T) {
	t.Parallel()
	old, rotated := newKey(t), newKey(t)
	keys := &staticKeys{
		cur:  map[string]federation.PublicKey{testKeyID: pubKey(old)},
		next: map[string]federation.PublicKey{testKeyID: pubKey(rotated)},
	}
	v := &federation.Verifier{Keys: keys}
	r := serverSide(t, signedRequest(t, rotated, http.MethodGet, "https://colearn.example/users/alice", nil), nil)
	got, err := v.Verify(t.Context(), r, nil)
	if err != nil {
		t.Fatalf("signature with the rotated key: %v", err)
	}
	if !got.Key.Equal(&rotated.PublicKey) {
		t.Error("Verify returned the old key")
	}
	if keys.refreshes != 1 {
		t.Errorf("%d refreshes, want 1", keys.refreshes)
	}
	// Now the old key is stale: a signature with it fails, after one refresh
	// that returns the same (rotated) key.
	r = serverSide(t, signedRequest(t, old, http.MethodGet, "https://colearn.example/users/alice", nil), nil)
	if _, err := v.Verify(t.Context(), r, nil); err == nil {
		t.Error("signature with the retired key verified")
	}
	if keys.refreshes != 2 {
		t.Errorf("%d refreshes, want 2", keys.refreshes)
	}
}

func TestVerifyDateWindow(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	r0 := signedRequest(t, key, http.MethodGet, "https://colearn.example/users/alice", nil)
	signedAt, err := http.ParseTime(r0.Header.Get("Date"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		window time.Duration
		skew   time.Duration // now - signedAt
		ok     bool
	}{
		{"now", 0, 0, true},
		{"59 minutes late", 0, 59 * time.Minute, true},
		{"61 minutes late", 0, 61 * time.Minute, false},
		{"59 minutes early", 0, -59 * time.Minute, true},
		{"61 minutes early", 0, -61 * time.Minute, false},
		{"custom window, 4 minutes late", 5 * time.Minute, 4 * time.Minute, true},
		{"custom window, 6 minutes late", 5 * time.Minute, 6 * time.Minute, false},
		{"custom window, 6 minutes early", 5 * time.Minute, -6 * time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := &federation.Verifier{
				Keys:    &staticKeys{cur: map[string]federation.PublicKey{testKeyID: pubKey(key)}},
				Window:  tt.window,
				NowFunc: func() time.Time { return signedAt.Add(tt.skew) },
			}
			_, err := v.Verify(t.Context(), serverSide(t, r0, nil), nil)
			if tt.ok && err != nil {
				t.Fatal(err)
			}
			var se *federation.SignatureError
			if !tt.ok && (!errors.As(err, &se) || se.Reason != "date") {
				t.Fatalf("Verify = %v, want reason date", err)
			}
		})
	}
}

func TestParseSignatureHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want federation.SignatureParams
		ok   bool
	}{
		{"good", `keyId="https://a.example/u#k",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="c2ln"`,
			federation.SignatureParams{KeyID: "https://a.example/u#k", Algorithm: "rsa-sha256", Headers: []string{"(request-target)", "host", "date", "digest"}, Signature: "c2ln"}, true},
		{"spaces and case", ` keyId="k" , Algorithm="HS2019",  Headers="(Request-Target) Host  Date" , signature="s" `,
			federation.SignatureParams{KeyID: "k", Algorithm: "hs2019", Headers: []string{"(request-target)", "host", "date"}, Signature: "s"}, true},
		{"unknown parameters ignored", `keyId="k",created="1",expires="2",signature="s",headers="date"`,
			federation.SignatureParams{KeyID: "k", Headers: []string{"date"}, Signature: "s"}, true},
		{"default headers are date", `keyId="k",signature="s"`,
			federation.SignatureParams{KeyID: "k", Headers: []string{"date"}, Signature: "s"}, true},
		{"value with comma and equals", `keyId="https://a.example/u?x=1,2",signature="ab=="`,
			federation.SignatureParams{KeyID: "https://a.example/u?x=1,2", Headers: []string{"date"}, Signature: "ab=="}, true},
		{"duplicate parameter", `keyId="k",keyId="j",signature="s"`, federation.SignatureParams{}, false},
		{"duplicate in other case", `keyId="k",KEYID="j",signature="s"`, federation.SignatureParams{}, false},
		{"unquoted", `keyId=k,signature="s"`, federation.SignatureParams{}, false},
		{"unterminated", `keyId="k,signature="s`, federation.SignatureParams{}, false},
		{"missing keyId", `algorithm="hs2019",signature="s"`, federation.SignatureParams{}, false},
		{"empty keyId", `keyId="",signature="s"`, federation.SignatureParams{}, false},
		{"missing signature", `keyId="k",headers="date"`, federation.SignatureParams{}, false},
		{"no separator", `keyId="k" signature="s"`, federation.SignatureParams{}, false},
		{"spaces around equals", `keyId = "k",signature="s"`, federation.SignatureParams{}, false},
		{"no name", `="k",signature="s"`, federation.SignatureParams{}, false},
		{"empty", ``, federation.SignatureParams{}, false},
		{"rfc 9421 value", `sig1=:c2ln:`, federation.SignatureParams{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := federation.ParseSignatureHeader(tt.in)
			if !tt.ok {
				if err == nil {
					t.Fatalf("ParseSignatureHeader(%q) = %+v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSignatureParamsCovers(t *testing.T) {
	t.Parallel()
	p := federation.SignatureParams{Headers: []string{"(request-target)", "host", "date"}}
	if !p.Covers("host", "(request-target)") || !p.Covers() {
		t.Error("Covers misses signed headers")
	}
	if p.Covers("host", "digest") {
		t.Error("Covers claims digest is signed")
	}
}

// TestVerifyChecksTheHeadersItVerifies signs only Date, then declares more
// signed headers in ways go-fed/httpsig's own looser parser skips (a space
// after a comma, a capitalised name): the headers checked must be the headers
// verified, so each is refused.
func TestVerifyChecksTheHeadersItVerifies(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	body := []byte(`{"type":"Delete"}`)
	tests := []struct {
		name    string
		declare func(sig string) string
	}{
		{"space after comma", func(sig string) string {
			return strings.Replace(sig, `,headers="date"`, `, headers="(request-target) host date digest"`, 1)
		}},
		{"capitalised name", func(sig string) string {
			return strings.Replace(sig, `,headers="date"`, `,Headers="(request-target) host date digest"`, 1)
		}},
		{"tab after comma", func(sig string) string {
			return strings.Replace(sig, `,headers="date"`, ",\theaders=\"(request-target) host date digest\"", 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := http.NewRequest(http.MethodPost, "https://colearn.example/inbox", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
			s, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256, []string{"date"}, httpsig.Signature, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SignRequest(key, testKeyID, r, body); err != nil {
				t.Fatal(err)
			}
			sig := r.Header.Get("Signature")
			forged := tt.declare(sig)
			if forged == sig {
				t.Fatalf("cannot rewrite %s", sig)
			}
			r.Header.Set("Signature", forged)
			v := &federation.Verifier{Keys: &staticKeys{cur: map[string]federation.PublicKey{testKeyID: pubKey(key)}}}
			srv := serverSide(t, r, body)
			if _, err := v.Verify(t.Context(), srv, body); err == nil {
				t.Fatalf("a signature over Date alone verified as covering more: %s", forged)
			}
			if got := srv.Header.Get("Signature"); got != forged {
				t.Errorf("Verify left Signature as %q", got)
			}
		})
	}
}
