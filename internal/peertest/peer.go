// Package peertest runs a scriptable fediverse server for tests: a real HTTP
// server on a loopback port that publishes actors with real RSA keys, serves
// whatever documents a test puts at a path (honest or crafted), counts the
// requests it answers, and signs what it sends with draft-cavage HTTP
// signatures. It is the hostile (or merely unusual) peer of colearn's
// federation tests: a test that needs a server that lies sets the lie up
// here and drives a real colearn instance with it.
package peertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-fed/httpsig"
)

// ActivityJSON is the media type the peer serves documents with unless a
// Response says otherwise.
const ActivityJSON = "application/activity+json"

// Peer is a running test server. Its zero value is not usable: start one
// with Start. A Peer is safe for concurrent use.
type Peer struct {
	// URL is the peer's origin, "http://127.0.0.1:PORT".
	URL string
	// Host is URL without the scheme.
	Host string

	srv *httptest.Server
	t   testing.TB

	mu     sync.Mutex
	routes map[string]Response
	funcs  map[string]HandlerFunc
	hits   map[string]int
	posts  []Received
	// gtsRules makes the peer verify every signed request it receives the
	// way GoToSocial does (see VerifyGoToSocial).
	gtsRules bool
}

// Response is what the peer answers at one path.
type Response struct {
	// Status defaults to 200.
	Status int
	// ContentType defaults to ActivityJSON.
	ContentType string
	// Body is sent as is.
	Body []byte
	// Header holds extra headers (Location for a redirect, Retry-After).
	Header http.Header
	// Delay holds the answer back this long, or until the request ends.
	Delay time.Duration
	// RequireSignature answers 401 to requests that carry no Signature
	// header, as GoToSocial does for actor documents. With
	// CheckGoToSocialSignatures on, the signature must also verify.
	RequireSignature bool
}

// Received is a request the peer answered that carried a body (a delivery
// to one of its inboxes).
type Received struct {
	Path   string
	Header http.Header
	Body   []byte
	// SignatureError is why the request's signature failed GoToSocial's
	// checks, "" when it passed; set only with CheckGoToSocialSignatures.
	SignatureError string
}

// Start runs a peer on a loopback port until the test ends.
func Start(t testing.TB) *Peer {
	t.Helper()
	p := &Peer{t: t, routes: map[string]Response{}, funcs: map[string]HandlerFunc{}, hits: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	p.URL = p.srv.URL
	p.Host = p.srv.Listener.Addr().String()
	return p
}

func (p *Peer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	p.mu.Lock()
	p.hits[r.URL.Path]++
	resp, ok := p.routes[r.URL.Path]
	fn := p.funcs[r.URL.Path]
	gts := p.gtsRules
	p.mu.Unlock()
	sigErr := ""
	if gts && (r.Method == http.MethodPost || resp.RequireSignature) {
		if r.Method == http.MethodGet {
			body = nil
		}
		if _, err := VerifyGoToSocial(r, body); err != nil {
			sigErr = err.Error()
		}
	}
	if r.Method == http.MethodPost {
		p.mu.Lock()
		p.posts = append(p.posts, Received{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, SignatureError: sigErr})
		p.mu.Unlock()
	}
	if fn != nil {
		fn(w, r, body)
		return
	}
	if sigErr != "" && resp.RequireSignature {
		http.Error(w, "signature: "+sigErr, http.StatusUnauthorized)
		return
	}
	if !ok {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		http.NotFound(w, r)
		return
	}
	if resp.Delay > 0 {
		select {
		case <-time.After(resp.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if resp.RequireSignature && r.Header.Get("Signature") == "" {
		http.Error(w, "signature required", http.StatusUnauthorized)
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	ct := resp.ContentType
	if ct == "" {
		ct = ActivityJSON
	}
	w.Header().Set("Content-Type", ct)
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(resp.Body)
}

// Handle sets the answer at path (the path alone, no query).
func (p *Peer) Handle(path string, r Response) {
	p.mu.Lock()
	p.routes[path] = r
	p.mu.Unlock()
}

// HandlerFunc answers a request the peer received; body is what it read
// of the request's body.
type HandlerFunc func(w http.ResponseWriter, r *http.Request, body []byte)

// HandleFunc makes f answer every request at path (counted, and recorded
// in Received when it carries a body), instead of a Response: the peer's
// behaviour (Lemmy's community inbox, lemmy.go).
func (p *Peer) HandleFunc(path string, f HandlerFunc) {
	p.mu.Lock()
	p.funcs[path] = f
	p.mu.Unlock()
}

// Serve publishes doc as JSON at path with the ActivityStreams media type.
func (p *Peer) Serve(path string, doc any) {
	p.t.Helper()
	p.Handle(path, Response{Body: p.JSON(doc)})
}

// ServeRaw publishes body as is at path with the ActivityStreams media type;
// use it for documents encoding/json cannot produce (duplicate keys).
func (p *Peer) ServeRaw(path string, body []byte) {
	p.Handle(path, Response{Body: body})
}

// Hits is how many requests the peer answered at path.
func (p *Peer) Hits(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

// Received lists the requests with a body that reached path, oldest first;
// path "" lists all of them.
func (p *Peer) Received(path string) []Received {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Received
	for _, r := range p.posts {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// JSON encodes v, failing the test if it cannot.
func (p *Peer) JSON(v any) []byte {
	p.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		p.t.Fatalf("peertest: encode: %v", err)
	}
	return b
}

// Actor is a Person (or any actor type) the peer publishes.
type Actor struct {
	// IRI is the actor's id, PEER/users/NAME.
	IRI string
	// KeyID is the id of its RSA key: IRI#main-key.
	KeyID string
	// Key signs its requests.
	Key *rsa.PrivateKey
	// Doc is the published document; change it and call Peer.Publish again
	// to publish something else at IRI.
	Doc map[string]any

	peer *Peer
}

// NewActor creates and publishes a Person named name at /users/NAME, with
// an inbox at /users/NAME/inbox and the key id IRI#main-key.
func (p *Peer) NewActor(name string) *Actor {
	p.t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		p.t.Fatalf("peertest: generate key: %v", err)
	}
	iri := p.URL + "/users/" + name
	a := &Actor{IRI: iri, KeyID: iri + "#main-key", Key: key, peer: p}
	a.Doc = map[string]any{
		"@context":          []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                iri,
		"type":              "Person",
		"preferredUsername": name,
		"inbox":             iri + "/inbox",
		"outbox":            iri + "/outbox",
		"followers":         iri + "/followers",
		"endpoints":         map[string]any{"sharedInbox": p.URL + "/inbox"},
		"publicKey":         a.PublicKey(a.KeyID),
	}
	p.Publish(a)
	return a
}

// Publish serves a.Doc at a.IRI's path (for an actor made by
// NewGoToSocialActor, only to signed GETs, with its stub at the key URL).
func (p *Peer) Publish(a *Actor) {
	p.t.Helper()
	if a.KeyID == a.IRI+"/main-key" {
		p.publishGoToSocial(a)
		return
	}
	p.Serve(p.Path(a.IRI), a.Doc)
}

// Path is the path part of an IRI on this peer.
func (p *Peer) Path(iri string) string {
	if len(iri) >= len(p.URL) && iri[:len(p.URL)] == p.URL {
		return iri[len(p.URL):]
	}
	p.t.Fatalf("peertest: %s is not on %s", iri, p.URL)
	return ""
}

// PublicKey is a publicKey object for a's RSA key under the given id.
func (a *Actor) PublicKey(id string) map[string]any {
	return map[string]any{"id": id, "owner": a.IRI, "publicKeyPem": PublicKeyPEM(&a.Key.PublicKey)}
}

// PublicKeyPEM encodes an RSA public key as PKIX PEM.
func PublicKeyPEM(k *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// SignOptions changes how a request is signed; the zero value signs the way
// Mastodon does: rsa-sha256, (request-target) host date [digest], the Date
// of now, the request's own host, and the actor's KeyID.
type SignOptions struct {
	KeyID   string
	Headers []string
	Date    time.Time
	// Host is the host header value that is signed and sent.
	Host string
}

// Post signs body as a and POSTs it to url, returning the status and the
// response body.
func (a *Actor) Post(ctx context.Context, url string, body []byte, opts SignOptions) (int, string) {
	a.peer.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		a.peer.t.Fatalf("peertest: %v", err)
	}
	req.Header.Set("Content-Type", ActivityJSON)
	a.Sign(req, body, opts)
	return do(a.peer.t, req)
}

// Get performs a signed GET of url as a.
func (a *Actor) Get(ctx context.Context, url string, opts SignOptions) (int, string) {
	a.peer.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		a.peer.t.Fatalf("peertest: %v", err)
	}
	req.Header.Set("Accept", ActivityJSON)
	a.Sign(req, nil, opts)
	return do(a.peer.t, req)
}

// Sign adds Date, Host, Digest (with a body) and Signature to req.
func (a *Actor) Sign(req *http.Request, body []byte, opts SignOptions) {
	t := a.peer.t
	t.Helper()
	if opts.KeyID == "" {
		opts.KeyID = a.KeyID
	}
	if opts.Headers == nil {
		opts.Headers = []string{httpsig.RequestTarget, "host", "date"}
		if body != nil {
			opts.Headers = append(opts.Headers, "digest")
		}
	}
	if opts.Date.IsZero() {
		opts.Date = time.Now()
	}
	if opts.Host == "" {
		opts.Host = req.URL.Host
	}
	req.Host = opts.Host
	req.Header.Set("Host", opts.Host)
	req.Header.Set("Date", opts.Date.UTC().Format(http.TimeFormat))
	signer, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256, opts.Headers, httpsig.Signature, 0)
	if err != nil {
		t.Fatalf("peertest: signer: %v", err)
	}
	if err := signer.SignRequest(a.Key, opts.KeyID, req, body); err != nil {
		t.Fatalf("peertest: sign: %v", err)
	}
}

func do(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	// Dial the URL's address whatever Host header is sent.
	addr := req.URL.Host
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("peertest: %s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// Activity builds an activity by a with a fresh id on the peer's origin
// (unless fields set "id"), addressed to the public collection unless
// fields set "to".
func (a *Actor) Activity(typ string, fields map[string]any) map[string]any {
	act := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       fmt.Sprintf("%s/activities/%d", a.IRI, time.Now().UnixNano()),
		"type":     typ,
		"actor":    a.IRI,
		"to":       []string{"https://www.w3.org/ns/activitystreams#Public"},
	}
	for k, v := range fields {
		act[k] = v
	}
	return act
}
