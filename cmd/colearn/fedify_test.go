package main

// Interop with an independent ActivityPub implementation: a small Fedify
// server (interop/fedify/peer.mjs, run by node) on loopback. Fedify parses
// colearn's actors, verifies colearn's HTTP signatures with its own code and
// signs what it sends with its own code; colearn does the same the other way.
// The peer needs its npm packages: `npm ci --prefix interop/fedify`. Without
// node or those packages the test fails; it never skips.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

const (
	fedifyPeerDir     = "../../interop/fedify"
	fedifyInstallHint = "install the Fedify peer's packages from the repository root with: npm ci --prefix interop/fedify"
	fedifyStartWait   = 30 * time.Second
	fedifyCallTimeout = 30 * time.Second
)

// fedifyPeer is a running interop/fedify/peer.mjs.
type fedifyPeer struct {
	base   string // http://127.0.0.1:port
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *fedifyBuffer
	http   *http.Client
}

// fedifyBuffer collects the peer's stderr for the test log.
type fedifyBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *fedifyBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *fedifyBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// fedifyActorIRI is the IRI of the peer's one actor.
func (p *fedifyPeer) actorIRI() string { return p.base + "/users/fedi" }

// startFedifyPeer runs the peer until the test ends. It fails the test, with
// the install hint, when node or the peer's packages are missing.
func startFedifyPeer(t *testing.T) *fedifyPeer {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (%v): the Fedify interop test needs Node.js 20 or later; then %s", err, fedifyInstallHint)
	}
	dir, err := filepath.Abs(fedifyPeerDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "peer.mjs")); err != nil {
		t.Fatalf("the Fedify peer is missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@fedify", "fedify", "package.json")); err != nil {
		t.Fatalf("the Fedify peer's packages are not installed (%v); %s", err, fedifyInstallHint)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "peer.mjs", "--port", "0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1")
	cmd.WaitDelay = 5 * time.Second
	p := &fedifyPeer{cmd: cmd, stderr: &fedifyBuffer{}, http: &http.Client{Timeout: fedifyCallTimeout}}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start the Fedify peer: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		p.stdin.Close() // the peer exits when its stdin closes
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cancel()
			<-exited
		}
		cancel()
		if t.Failed() {
			t.Logf("Fedify peer stderr:\n%s", p.stderr.String())
		}
	})

	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				port <- strings.TrimSpace(rest)
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case got := <-port:
		p.base = "http://127.0.0.1:" + got
	case err := <-exited:
		exited <- err
		t.Fatalf("the Fedify peer exited before listening (%v); stderr:\n%s\n%s", err, p.stderr.String(), fedifyInstallHint)
	case <-time.After(fedifyStartWait):
		t.Fatalf("the Fedify peer did not print LISTENING within %s; stderr:\n%s", fedifyStartWait, p.stderr.String())
	}
	return p
}

// call makes one control API request; out receives the JSON answer.
func (p *fedifyPeer) call(t *testing.T, method, path string, in, out any) (int, error) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, p.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode %s: %w", method, path, raw, err)
		}
	}
	return resp.StatusCode, nil
}

// mustCall is call that fails the test on any error.
func (p *fedifyPeer) mustCall(t *testing.T, method, path string, in, out any) {
	t.Helper()
	if _, err := p.call(t, method, path, in, out); err != nil {
		t.Fatal(err)
	}
}

// fedifyObject is the peer's account of an object it looked up.
type fedifyObject struct {
	Type              string `json:"type"`
	ID                string `json:"id"`
	PreferredUsername string `json:"preferredUsername"`
	Inbox             string `json:"inbox"`
	SharedInbox       string `json:"sharedInbox"`
	Followers         string `json:"followers"`
	PublicKey         *struct {
		ID        string `json:"id"`
		Owner     string `json:"owner"`
		Algorithm string `json:"algorithm"`
	} `json:"publicKey"`
	AssertionMethods []struct {
		ID         string `json:"id"`
		Controller string `json:"controller"`
		Algorithm  string `json:"algorithm"`
	} `json:"assertionMethods"`
}

// fedifyActivity is an activity the peer sent or received.
type fedifyActivity struct {
	Type      string   `json:"type"`
	ID        string   `json:"id"`
	Actor     string   `json:"actor"`
	Object    string   `json:"object"`
	Audience  []string `json:"audience"`
	Note      string   `json:"note"` // the Note a reply created
	Recipient *string  `json:"recipient"`
	Inbox     string   `json:"inbox"`
	OK        bool     `json:"ok"`
	Error     string   `json:"error"`
	// The embedded object as Fedify's vocabulary parsed it (Undo, Update).
	ObjectType    string   `json:"objectType"`
	ObjectID      string   `json:"objectId"`
	ObjectActor   string   `json:"objectActor"`  // of an undone Announce
	ObjectObject  string   `json:"objectObject"` // of an undone Announce
	ObjectContent string   `json:"objectContent"`
	CC            []string `json:"cc"`
	Group         *struct {
		Name                      string   `json:"name"`
		ManuallyApprovesFollowers bool     `json:"manuallyApprovesFollowers"`
		Discoverable              bool     `json:"discoverable"`
		PublicKeyID               string   `json:"publicKeyId"`
		PublicKeyOwner            string   `json:"publicKeyOwner"`
		PublicKeyPem              bool     `json:"publicKeyPem"`
		AssertionMethods          []string `json:"assertionMethods"`
	} `json:"group"`
}

// fedifyState is GET /control/state.
type fedifyState struct {
	Received []fedifyActivity `json:"received"`
	Sent     []fedifyActivity `json:"sent"`
	Fetches  []struct {
		KeyID      string `json:"keyId"`
		Owner      string `json:"owner"`
		Authorized bool   `json:"authorized"`
	} `json:"fetches"`
	Inbox []struct {
		Path     string `json:"path"`
		Status   int    `json:"status"`
		Response string `json:"response"`
	} `json:"inbox"`
	Followers []string `json:"followers"`
	Errors    []struct {
		Where string `json:"where"`
		Error string `json:"error"`
	} `json:"errors"`
}

func (p *fedifyPeer) state(t *testing.T) fedifyState {
	t.Helper()
	var s fedifyState
	p.mustCall(t, http.MethodGet, "/control/state", nil, &s)
	return s
}

// received returns the activity with id among those the peer's inbox
// listeners were called for, i.e. whose signatures Fedify verified.
func (p *fedifyPeer) received(t *testing.T, id string) (fedifyActivity, bool) {
	t.Helper()
	var got []fedifyActivity
	p.mustCall(t, http.MethodGet, "/control/received", nil, &got)
	for _, a := range got {
		if a.ID == id {
			return a, true
		}
	}
	return fedifyActivity{}, false
}

// waitReceived waits for an activity the peer verified and match accepts.
func (p *fedifyPeer) waitReceived(t *testing.T, what string, match func(fedifyActivity) bool) fedifyActivity {
	t.Helper()
	return waitFedify(t, p, what, 20*time.Second, match)
}

// waitFedify waits up to wait for an activity the peer verified, read as
// T, that match accepts.
func waitFedify[T any](t *testing.T, p *fedifyPeer, what string, wait time.Duration, match func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		var got []T
		p.mustCall(t, http.MethodGet, "/control/received", nil, &got)
		for _, a := range got {
			if match(a) {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Fedify peer never received %s; state: %+v", what, p.state(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fedifyInboxRow is one row of inbox_activities.
type fedifyInboxRow struct {
	Actor, Type, Recipient string
	Body                   []byte
}

// fedifyStored waits briefly for activityID to be in ti's inbox_activities.
func fedifyStored(t *testing.T, ti *testInstance, activityID string) (fedifyInboxRow, bool) {
	t.Helper()
	var row fedifyInboxRow
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := ti.pool.QueryRow(t.Context(), `
			SELECT actor_iri, type, recipient, body FROM inbox_activities WHERE activity_id = $1`,
			activityID).Scan(&row.Actor, &row.Type, &row.Recipient, &row.Body)
		if err == nil {
			return row, true
		}
		if time.Now().After(deadline) {
			return row, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestFedifyInterop(t *testing.T) {
	t.Parallel()
	peer := startFedifyPeer(t)
	// colearn requires signed fetches, so Fedify's fetches of colearn actors
	// (lookups, and the key fetches that verify colearn's signatures) only
	// succeed when colearn verified Fedify's GET signatures.
	c := startInstance(t, testInstanceOptions{AuthorizedFetch: true})
	aliceKeys := c.createUser(t, "alice")
	fedifyPhase1(t, c, peer, c.urls.User("alice"), aliceKeys)
	alice, err := c.courses.UserByUsername(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	fedifyPhase2(t, c, peer, alice)
}

// fedifyPhase1 covers users: actor documents, and signed requests both ways.
func fedifyPhase1(t *testing.T, c *testInstance, peer *fedifyPeer, aliceIRI string, aliceKeys federation.KeyPair) {
	fediIRI := peer.actorIRI()

	t.Run("FedifyLooksUpColearnUser", func(t *testing.T) {
		var obj fedifyObject
		peer.mustCall(t, http.MethodPost, "/control/lookup", map[string]any{"url": aliceIRI}, &obj)
		if obj.Type != "Person" || obj.ID != aliceIRI {
			t.Errorf("Fedify sees %s %q, want Person %q", obj.Type, obj.ID, aliceIRI)
		}
		if obj.PreferredUsername != "alice" {
			t.Errorf("preferredUsername = %q, want alice", obj.PreferredUsername)
		}
		if want := aliceIRI + "/inbox"; obj.Inbox != want {
			t.Errorf("inbox = %q, want %q", obj.Inbox, want)
		}
		if want := c.urls.SharedInbox(); obj.SharedInbox != want {
			t.Errorf("sharedInbox = %q, want %q", obj.SharedInbox, want)
		}
		if obj.PublicKey == nil {
			t.Fatal("Fedify found no publicKey on the actor")
		}
		if want := federation.MainKey(aliceIRI); obj.PublicKey.ID != want || obj.PublicKey.Owner != aliceIRI {
			t.Errorf("publicKey id %q owner %q, want %q owned by %q", obj.PublicKey.ID, obj.PublicKey.Owner, want, aliceIRI)
		}
		if obj.PublicKey.Algorithm != "RSASSA-PKCS1-v1_5" {
			t.Errorf("Fedify could not import the publicKey PEM as an RSA key: algorithm %q", obj.PublicKey.Algorithm)
		}
		found := false
		for _, m := range obj.AssertionMethods {
			if m.ID == federation.AssertionKey(aliceIRI) {
				found = true
				if m.Controller != aliceIRI || m.Algorithm != "Ed25519" {
					t.Errorf("assertionMethod %s: controller %q algorithm %q, want %q Ed25519", m.ID, m.Controller, m.Algorithm, aliceIRI)
				}
			}
		}
		if !found {
			t.Errorf("Fedify found no Multikey %s in assertionMethod: %+v", federation.AssertionKey(aliceIRI), obj.AssertionMethods)
		}
		// colearn verified Fedify's signed GET: it fetched fedi's key.
		if !c.knowsRemoteActor(t, fediIRI) {
			t.Errorf("colearn never fetched %s, so it did not verify Fedify's signed GET", fediIRI)
		}
	})

	t.Run("UnsignedFedifyLookupRefused", func(t *testing.T) {
		// Authorized fetch is on: the same lookup without a signature fails.
		status, err := peer.call(t, http.MethodPost, "/control/lookup", map[string]any{"url": aliceIRI, "unsigned": true}, nil)
		if err == nil {
			t.Errorf("an unsigned lookup of %s succeeded though colearn requires signed fetches", aliceIRI)
		} else if status != http.StatusNotFound && status != http.StatusBadGateway {
			t.Errorf("unsigned lookup: %v", err)
		}
	})

	t.Run("FedifyFollowsColearnUser", func(t *testing.T) {
		var sent fedifyActivity
		peer.mustCall(t, http.MethodPost, "/control/follow", map[string]any{"actor": aliceIRI}, &sent)
		if !sent.OK || sent.Type != "Follow" || sent.Actor != fediIRI || sent.Object != aliceIRI {
			t.Fatalf("Fedify sent %+v, want a delivered Follow of %s by %s", sent, aliceIRI, fediIRI)
		}
		// Fedify's delivery got a 2xx, so colearn verified its signature;
		// the stored row is the proof.
		row, ok := fedifyStored(t, c, sent.ID)
		if !ok {
			t.Fatalf("colearn did not store Fedify's Follow %s", sent.ID)
		}
		if row.Actor != fediIRI || row.Type != "Follow" {
			t.Errorf("stored actor %q type %q, want %q Follow", row.Actor, row.Type, fediIRI)
		}
		if sent.Inbox == aliceIRI+"/inbox" && row.Recipient != aliceIRI {
			t.Errorf("stored recipient %q, want %q", row.Recipient, aliceIRI)
		}
		// alice accepts, signed with her own key, which Fedify verified
		// before its listener saw the Accept; her followers list fedi.
		peer.waitReceived(t, "alice's Accept of the Follow", func(a fedifyActivity) bool {
			return a.Type == "Accept" && a.Actor == aliceIRI && a.ObjectID == sent.ID
		})
		fedifyWaitFollowers(t, c, "alice", fediIRI)
	})

	t.Run("UnsignedFedifyActorFetchRefused", func(t *testing.T) {
		// The peer requires signed fetches too, so the next subtest proves
		// colearn's GET signature.
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, fediIRI, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/activity+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("unsigned GET %s: %d, want 401", fediIRI, resp.StatusCode)
		}
	})

	t.Run("ColearnFetchesFedifyActorSigned", func(t *testing.T) {
		before := len(peer.state(t).Fetches)
		a, err := c.resolver.Actor(t.Context(), fediIRI, true)
		if err != nil {
			t.Fatalf("colearn's signed fetch of %s: %v", fediIRI, err)
		}
		if a.IRI != fediIRI || a.Type != "Person" || a.PreferredUsername != "fedi" {
			t.Errorf("resolved %s %q %q, want Person %q fedi", a.Type, a.IRI, a.PreferredUsername, fediIRI)
		}
		if want := fediIRI + "/inbox"; a.Inbox != want {
			t.Errorf("inbox = %q, want %q", a.Inbox, want)
		}
		if want := peer.base + "/inbox"; a.SharedInbox != want {
			t.Errorf("shared inbox = %q, want %q", a.SharedInbox, want)
		}
		if want := federation.MainKey(fediIRI); a.KeyID != want || a.Key == nil {
			t.Errorf("key id %q (key %v), want %q", a.KeyID, a.Key != nil, want)
		}
		s := peer.state(t)
		authorized := false
		for _, f := range s.Fetches[before:] {
			if f.Authorized && f.KeyID == federation.MainKey(c.urls.InstanceActor()) && f.Owner == c.urls.InstanceActor() {
				authorized = true
			}
		}
		if !authorized {
			t.Errorf("Fedify did not verify a fetch signed by colearn's instance actor; fetches: %+v", s.Fetches[before:])
		}
	})

	signer := &federation.Signer{KeyID: federation.MainKey(aliceIRI), Key: aliceKeys.RSA}
	fedi, err := c.resolver.Actor(t.Context(), fediIRI, false)
	if err != nil {
		t.Fatalf("resolve %s: %v", fediIRI, err)
	}

	t.Run("ColearnDeliversFollowToFedify", func(t *testing.T) {
		followID := aliceIRI + "/follows/fedify-1"
		body := fedifyJSON(t, map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams",
			"id":       followID,
			"type":     "Follow",
			"actor":    aliceIRI,
			"object":   fediIRI,
		})
		if err := c.client.Post(t.Context(), fedi.Inbox, body, signer); err != nil {
			t.Fatalf("deliver Follow to %s: %v", fedi.Inbox, err)
		}
		got, ok := peer.received(t, followID)
		if !ok {
			t.Fatalf("Fedify's inbox listener never saw %s, so Fedify did not verify colearn's signature; state: %+v", followID, peer.state(t))
		}
		if got.Type != "Follow" || got.Actor != aliceIRI || got.Object != fediIRI {
			t.Errorf("Fedify received %+v, want Follow of %s by %s", got, fediIRI, aliceIRI)
		}
		// The peer answers a Follow with a signed Accept to alice's inbox.
		var accept fedifyActivity
		for _, s := range peer.state(t).Sent {
			if s.Type == "Accept" && s.Object == followID {
				accept = s
			}
		}
		if !accept.OK {
			t.Fatalf("Fedify did not deliver an Accept of %s: %+v", followID, accept)
		}
		row, ok := fedifyStored(t, c, accept.ID)
		if !ok {
			t.Fatalf("colearn did not store Fedify's Accept %s", accept.ID)
		}
		if row.Actor != fediIRI || row.Type != "Accept" {
			t.Errorf("stored Accept: actor %q type %q", row.Actor, row.Type)
		}
	})

	t.Run("ColearnDeliversNoteToFedifySharedInbox", func(t *testing.T) {
		noteID := aliceIRI + "/notes/fedify-1"
		createID := noteID + "/activity"
		body := fedifyJSON(t, map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams",
			"id":       createID,
			"type":     "Create",
			"actor":    aliceIRI,
			"to":       []string{fediIRI},
			"object": map[string]any{
				"id":           noteID,
				"type":         "Note",
				"attributedTo": aliceIRI,
				"to":           []string{fediIRI},
				"content":      "<p>Hello from colearn</p>",
			},
		})
		if fedi.SharedInbox == "" {
			t.Fatal("fedi has no shared inbox")
		}
		if err := c.client.Post(t.Context(), fedi.SharedInbox, body, signer); err != nil {
			t.Fatalf("deliver Create to %s: %v", fedi.SharedInbox, err)
		}
		got, ok := peer.received(t, createID)
		if !ok {
			t.Fatalf("Fedify's inbox listener never saw %s; state: %+v", createID, peer.state(t))
		}
		if got.Type != "Create" || got.Actor != aliceIRI || got.Object != noteID || got.Recipient != nil {
			t.Errorf("Fedify received %+v, want Create of %s by %s on the shared inbox", got, noteID, aliceIRI)
		}
	})

	t.Run("FedifyRefusesBadColearnSignature", func(t *testing.T) {
		// Signed with a key that is not alice's: Fedify must answer 401 and
		// not call its listeners, or the subtests above prove nothing.
		wrong, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		id := aliceIRI + "/follows/fedify-forged"
		body := fedifyJSON(t, map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams",
			"id":       id, "type": "Follow", "actor": aliceIRI, "object": fediIRI,
		})
		err = c.client.Post(t.Context(), fedi.Inbox, body, &federation.Signer{KeyID: federation.MainKey(aliceIRI), Key: wrong})
		var se *federation.StatusError
		if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
			t.Errorf("forged delivery: %v, want 401 from Fedify", err)
		}
		if _, ok := peer.received(t, id); ok {
			t.Errorf("Fedify accepted %s, signed with the wrong key", id)
		}
	})
}

// fedifyPhase2 covers courses: fedi follows a course (Group), gets Accept,
// receives the course's Announce of a post, and replies; the course
// announces the reply.
func fedifyPhase2(t *testing.T, c *testInstance, peer *fedifyPeer, alice courses.User) {
	ctx := t.Context()
	fediIRI := peer.actorIRI()
	course, err := c.actions.CreateCourse(ctx, alice, courses.CourseDraft{Slug: "interop", Title: "Interoperability"})
	if err != nil {
		t.Fatalf("create course: %v", err)
	}
	courseIRI := c.urls.Course(course.Slug)

	t.Run("FedifyLooksUpCourse", func(t *testing.T) {
		var obj fedifyObject
		peer.mustCall(t, http.MethodPost, "/control/lookup", map[string]any{"url": courseIRI}, &obj)
		if obj.Type != "Group" || obj.ID != courseIRI {
			t.Errorf("Fedify sees %s %q, want Group %q", obj.Type, obj.ID, courseIRI)
		}
		if obj.PublicKey == nil || obj.PublicKey.ID != federation.MainKey(courseIRI) || obj.PublicKey.Algorithm != "RSASSA-PKCS1-v1_5" {
			t.Errorf("course publicKey as Fedify sees it: %+v, want %s RSA", obj.PublicKey, federation.MainKey(courseIRI))
		}
		if want := courseIRI + "/inbox"; obj.Inbox != want {
			t.Errorf("course inbox = %q, want %q", obj.Inbox, want)
		}
	})

	t.Run("FedifyFollowsCourse", func(t *testing.T) {
		var follow fedifyActivity
		peer.mustCall(t, http.MethodPost, "/control/follow", map[string]any{"actor": courseIRI}, &follow)
		if !follow.OK {
			t.Fatalf("Fedify's Follow of %s was not delivered: %+v", courseIRI, follow)
		}
		// colearn answers with a signed Accept of that Follow, which Fedify
		// verified before its listener saw it.
		peer.waitReceived(t, "the course's Accept of its Follow", func(a fedifyActivity) bool {
			return a.Type == "Accept" && a.Actor == courseIRI && a.Object == follow.ID
		})
		m, err := c.courses.MemberOf(ctx, c.pool, course.ID, fediIRI)
		if err != nil {
			t.Fatalf("fedi is not a member of the course: %v", err)
		}
		if m.State != courses.StateAccepted {
			t.Errorf("fedi's membership state = %q, want %q", m.State, courses.StateAccepted)
		}
	})

	var postIRI, announceID string
	t.Run("CourseAnnouncesPostToFedify", func(t *testing.T) {
		post, err := c.actions.Post(ctx, alice, courseIRI, "Welcome to the course!", "")
		if err != nil {
			t.Fatalf("alice posts: %v", err)
		}
		postIRI = post.IRI
		got := peer.waitReceived(t, "the course's Announce of alice's post", func(a fedifyActivity) bool {
			return a.Type == "Announce" && a.Actor == courseIRI && a.Object == post.IRI
		})
		announceID = got.ID
		if !slices.Contains(got.Audience, courseIRI) {
			t.Errorf("Announce audience = %v, want the course %s", got.Audience, courseIRI)
		}
		// fedi follows alice too (phase 1): her post reaches it as
		// Create(Note) from her, which Fedify verified with her key.
		create := peer.waitReceived(t, "alice's Create of her post, as her follower", func(a fedifyActivity) bool {
			return a.Type == "Create" && a.Actor == c.urls.User(alice.Username) && a.ObjectID == post.IRI
		})
		if create.ObjectType != "Note" || !strings.Contains(create.ObjectContent, "Welcome to the course!") {
			t.Errorf("Fedify read alice's Create as a %s with content %q", create.ObjectType, create.ObjectContent)
		}
		if !slices.Contains(create.CC, federation.Followers(c.urls.User(alice.Username))) {
			t.Errorf("Create cc = %v, want alice's followers", create.CC)
		}
		// The announced post is fetchable (signed, as colearn requires) and
		// parses as a Note.
		var obj fedifyObject
		peer.mustCall(t, http.MethodPost, "/control/lookup", map[string]any{"url": post.IRI}, &obj)
		if obj.Type != "Note" || obj.ID != post.IRI {
			t.Errorf("Fedify sees the post as %s %q, want Note %q", obj.Type, obj.ID, post.IRI)
		}
	})

	t.Run("CourseAnnouncesFedifyPost", func(t *testing.T) {
		// A member's top-level post, sent as Create(Note) to the course, is
		// announced to everyone, fedi included.
		var sent fedifyActivity
		peer.mustCall(t, http.MethodPost, "/control/reply", map[string]any{
			"to": courseIRI, "content": "<p>Hello, everyone.</p>",
		}, &sent)
		if !sent.OK || sent.Note == "" {
			t.Fatalf("Fedify's post was not delivered: %+v", sent)
		}
		got := peer.waitReceived(t, "the course's Announce of fedi's post", func(a fedifyActivity) bool {
			return a.Type == "Announce" && a.Actor == courseIRI && a.Object == sent.Note
		})
		if !slices.Contains(got.Audience, courseIRI) {
			t.Errorf("Announce audience = %v, want the course %s", got.Audience, courseIRI)
		}
		p := fedifyWaitPost(t, c, sent.Note)
		if p.CourseIRI != courseIRI || p.InReplyTo != "" || p.AuthorIRI != fediIRI {
			t.Errorf("stored post: course %q, inReplyTo %q, author %q; want %q, none, %q",
				p.CourseIRI, p.InReplyTo, p.AuthorIRI, courseIRI, fediIRI)
		}
	})

	t.Run("ColearnKeepsFedifyReply", func(t *testing.T) {
		// Replies are announced only to members who joined from colearn
		// instances (outbox.Sender.AnnounceToMembers); fedi followed, so
		// the course keeps the reply without boosting it to fedi.
		if postIRI == "" {
			t.Fatal("no post to reply to")
		}
		var reply fedifyActivity
		peer.mustCall(t, http.MethodPost, "/control/reply", map[string]any{
			"to": courseIRI, "inReplyTo": postIRI, "content": "<p>Thanks, glad to be here.</p>",
		}, &reply)
		if !reply.OK || reply.Note == "" {
			t.Fatalf("Fedify's reply was not delivered: %+v", reply)
		}
		p := fedifyWaitPost(t, c, reply.Note)
		if p.CourseIRI != courseIRI || p.InReplyTo != postIRI || p.AuthorIRI != fediIRI {
			t.Errorf("stored reply: course %q, inReplyTo %q, author %q; want %q, %q, %q",
				p.CourseIRI, p.InReplyTo, p.AuthorIRI, courseIRI, postIRI, fediIRI)
		}
	})

	t.Run("FedifyReceivesUndoAnnounceAfterRemoval", func(t *testing.T) {
		if announceID == "" {
			t.Fatal("no Announce to undo")
		}
		if err := c.actions.RemovePost(ctx, alice, postIRI); err != nil {
			t.Fatal(err)
		}
		undo := peer.waitReceived(t, "the course's Undo of its Announce", func(a fedifyActivity) bool {
			return a.Type == "Undo" && a.Actor == courseIRI && a.ObjectID == announceID
		})
		if undo.ObjectType != "Announce" || undo.ObjectActor != courseIRI || undo.ObjectObject != postIRI {
			t.Errorf("Fedify read the undone object as %s by %s of %s; want the course's Announce of %s",
				undo.ObjectType, undo.ObjectActor, undo.ObjectObject, postIRI)
		}
	})

	t.Run("FedifyParsesCourseUpdate", func(t *testing.T) {
		edit := courses.CourseDraft{Title: "Interoperability, revised", Summary: "Now *moderated*", Language: "en",
			Licence: course.Licence, ManuallyApproves: true}
		if _, err := c.actions.UpdateCourse(ctx, alice, course.ID, course.Version, edit); err != nil {
			t.Fatal(err)
		}
		up := peer.waitReceived(t, "the course's Update", func(a fedifyActivity) bool {
			return a.Type == "Update" && a.Actor == courseIRI
		})
		g := up.Group
		if up.ObjectType != "Group" || up.ObjectID != courseIRI || g == nil {
			t.Fatalf("Fedify read the Update's object as %s %s (%+v), want the Group %s", up.ObjectType, up.ObjectID, g, courseIRI)
		}
		if g.Name != edit.Title || !g.ManuallyApprovesFollowers || !g.Discoverable {
			t.Errorf("Fedify's Group: name %q, manuallyApprovesFollowers %v, discoverable %v", g.Name, g.ManuallyApprovesFollowers, g.Discoverable)
		}
		if g.PublicKeyID != federation.MainKey(courseIRI) || g.PublicKeyOwner != courseIRI || !g.PublicKeyPem {
			t.Errorf("Fedify's Group key: %s owned by %s (pem %v), want %s", g.PublicKeyID, g.PublicKeyOwner, g.PublicKeyPem, federation.MainKey(courseIRI))
		}
		if !slices.Contains(g.AssertionMethods, federation.AssertionKey(courseIRI)) {
			t.Errorf("Fedify's Group assertion methods %v lack %s", g.AssertionMethods, federation.AssertionKey(courseIRI))
		}
	})
}

// fedifyWaitPost waits for the inbox processor to keep the post iri.
func fedifyWaitPost(t *testing.T, c *testInstance, iri string) courses.Post {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := c.courses.PostByIRI(t.Context(), c.pool, iri)
		if err == nil {
			return p
		}
		if !errors.Is(err, courses.ErrNotFound) || time.Now().After(deadline) {
			// Say what the inbox made of what arrived.
			var verdicts []string
			rows, qerr := c.pool.Query(t.Context(), `SELECT type || ' ' || activity_id || ': ' || coalesce(error, '') FROM inbox_activities ORDER BY seq`)
			if qerr == nil {
				verdicts, qerr = pgx.CollectRows(rows, pgx.RowTo[string])
			}
			t.Fatalf("colearn did not keep the post %s: %v\ninbox: %q %v", iri, err, verdicts, qerr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fedifyJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
