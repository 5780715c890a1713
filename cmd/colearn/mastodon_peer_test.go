package main

// A peer that checks what Mastodon checks, on loopback: its actors have
// real keys, its inboxes verify every signature with colearn's own
// verifier (the key fetched from the signer's origin, its owner required to
// be the activity's actor), and it applies activities the way Mastodon
// does: a boost is undone only by an Undo from the booster naming the
// Announce's id; an edit or deletion is taken only from the post's author;
// a Reject must come from the followed actor and name the Follow it ends.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colearn/colearn/federation"
)

// mastoPeer is one fake Mastodon server with one account.
type mastoPeer struct {
	t        *testing.T
	srv      *httptest.Server
	keys     federation.KeyPair
	client   *federation.Client
	verifier *federation.Verifier

	mu       sync.Mutex
	got      []mastoActivity              // every activity that verified, in order
	boosts   map[string]string            // Announce id → the post it boosts
	statuses map[string]mastoStatus       // posts fetched from their origin
	follows  map[string]string            // Follow id → the followed actor
	rejected map[string]bool              // Follow ids rejected
	problems []string                     // what Mastodon would have refused
	ignored  []string                     // what Mastodon ignores on purpose
	raw      map[string][]json.RawMessage // type → bodies
	notes    map[string][]byte            // the peer's own posts, by IRI
}

type mastoActivity struct {
	Type, ID, Actor string
	Body            map[string]any
}

type mastoStatus struct {
	AttributedTo, Content string
	Deleted               bool
}

func newMastoPeer(t *testing.T) *mastoPeer {
	t.Helper()
	kp, err := federation.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	p := &mastoPeer{t: t, keys: kp, boosts: map[string]string{}, statuses: map[string]mastoStatus{},
		follows: map[string]string{}, rejected: map[string]bool{}, raw: map[string][]json.RawMessage{}, notes: map[string][]byte{},
		client: federation.NewClient(federation.ClientConfig{AllowPrivate: true, Timeout: 5 * time.Second})}
	p.verifier = &federation.Verifier{Keys: originKeys{p.client}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{name}", p.actor)
	mux.HandleFunc("POST /users/{name}/inbox", p.inbox)
	mux.HandleFunc("POST /inbox", p.inbox)
	mux.HandleFunc("GET /notes/{id}", p.note)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// iri is the actor IRI of the peer's account name.
func (p *mastoPeer) iri(name string) string { return p.srv.URL + "/users/" + name }

// host is the peer's host:port.
func (p *mastoPeer) host() string { return strings.TrimPrefix(p.srv.URL, "http://") }

func (p *mastoPeer) actor(w http.ResponseWriter, r *http.Request) {
	iri := p.iri(r.PathValue("name"))
	doc, _ := json.Marshal(map[string]any{
		"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                iri,
		"type":              "Person",
		"preferredUsername": r.PathValue("name"),
		"inbox":             iri + "/inbox",
		"outbox":            iri + "/outbox",
		"followers":         iri + "/followers",
		"endpoints":         map[string]string{"sharedInbox": p.srv.URL + "/inbox"},
		"publicKey":         map[string]string{"id": iri + "#main-key", "owner": iri, "publicKeyPem": p.keys.PublicKeyPEM()},
	})
	w.Header().Set("Content-Type", "application/activity+json")
	w.Write(doc)
}

func (p *mastoPeer) inbox(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key, err := p.verifier.Verify(r.Context(), r, body)
	if err != nil {
		p.problem("signature on %s: %v", r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var act map[string]any
	if err := json.Unmarshal(body, &act); err != nil {
		p.problem("body is not JSON: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a := mastoActivity{Type: str(act["type"]), ID: str(act["id"]), Actor: str(act["actor"]), Body: act}
	if a.Actor != key.Owner {
		p.problem("%s %s by %s signed by %s", a.Type, a.ID, a.Actor, key.Owner)
		http.Error(w, "signer is not the actor", http.StatusUnauthorized)
		return
	}
	p.apply(r.Context(), a)
	p.mu.Lock()
	p.got = append(p.got, a)
	p.raw[a.Type] = append(p.raw[a.Type], body)
	p.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// apply does what Mastodon does with the activity, noting what it would
// have ignored.
func (p *mastoPeer) apply(ctx context.Context, a mastoActivity) {
	obj := a.Body["object"]
	switch a.Type {
	case "Announce":
		postIRI := idOf(obj)
		// Mastodon fetches the boosted post from its origin.
		body, err := p.client.Get(ctx, postIRI, federation.AcceptActivity, nil)
		if err != nil {
			p.problem("fetch boosted %s: %v", postIRI, err)
			return
		}
		var post map[string]any
		if err := json.Unmarshal(body, &post); err != nil || str(post["id"]) != postIRI {
			p.problem("boosted %s is not what it claims", postIRI)
			return
		}
		p.mu.Lock()
		p.boosts[a.ID] = postIRI
		p.statuses[postIRI] = mastoStatus{AttributedTo: str(post["attributedTo"]), Content: str(post["content"])}
		p.mu.Unlock()
	case "Undo":
		inner, _ := obj.(map[string]any)
		if inner == nil || str(inner["type"]) != "Announce" {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if _, ok := p.boosts[str(inner["id"])]; !ok || str(inner["actor"]) != a.Actor {
			p.problems = append(p.problems, fmt.Sprintf("Undo(Announce) %s names no boost by %s", str(inner["id"]), a.Actor))
			return
		}
		delete(p.boosts, str(inner["id"]))
	case "Update", "Delete":
		id := idOf(obj)
		p.mu.Lock()
		defer p.mu.Unlock()
		st, ok := p.statuses[id]
		if !ok {
			return // not a status it knows (an actor Update, say)
		}
		if st.AttributedTo != a.Actor {
			// Mastodon ignores it (a course's Delete is for colearn peers).
			p.ignored = append(p.ignored, fmt.Sprintf("%s of %s by %s, not by its author %s", a.Type, id, a.Actor, st.AttributedTo))
			return
		}
		if a.Type == "Delete" {
			st.Deleted = true
		} else if o, _ := obj.(map[string]any); o != nil {
			st.Content = str(o["content"])
		}
		p.statuses[id] = st
	case "Reject":
		followID := idOf(obj)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.follows[followID] != a.Actor {
			p.problems = append(p.problems, fmt.Sprintf("Reject of %s by %s, who was not followed by it", followID, a.Actor))
			return
		}
		p.rejected[followID] = true
	}
}

func (p *mastoPeer) problem(format string, args ...any) {
	p.mu.Lock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
	p.mu.Unlock()
}

// note serves one of the peer's own posts (a 404 once deleted).
func (p *mastoPeer) note(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	body, ok := p.notes[p.srv.URL+"/notes/"+r.PathValue("id")]
	p.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/activity+json")
	w.Write(body)
}

// post has name send a public Note to the course (Mastodon's Create of a
// post mentioning a group) and returns the Note's IRI.
func (p *mastoPeer) post(t *testing.T, name, courseIRI, content string) string {
	t.Helper()
	iri := fmt.Sprintf("%s/notes/%d", p.srv.URL, time.Now().UnixNano())
	note := map[string]any{"id": iri, "type": "Note", "attributedTo": p.iri(name), "content": content,
		"published": time.Now().UTC().Format(time.RFC3339), "to": []string{"https://www.w3.org/ns/activitystreams#Public", courseIRI},
		"cc": []string{p.iri(name) + "/followers"}}
	body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": iri, "type": "Note",
		"attributedTo": note["attributedTo"], "content": content, "published": note["published"], "to": note["to"], "cc": note["cc"]})
	p.mu.Lock()
	p.notes[iri] = body
	p.mu.Unlock()
	if err := p.send(t, name, courseIRI+"/inbox", map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": iri + "/activity", "type": "Create", "actor": p.iri(name), "object": note, "to": note["to"], "cc": note["cc"]}); err != nil {
		t.Fatalf("send Create: %v", err)
	}
	return iri
}

// deletePost has name delete its post iri, as Mastodon does.
func (p *mastoPeer) deletePost(t *testing.T, name, iri, inbox string) {
	t.Helper()
	p.mu.Lock()
	delete(p.notes, iri)
	p.mu.Unlock()
	if err := p.send(t, name, inbox, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": iri + "#delete", "type": "Delete", "actor": p.iri(name),
		"object": map[string]any{"id": iri, "type": "Tombstone"}, "to": []string{"https://www.w3.org/ns/activitystreams#Public"}}); err != nil {
		t.Fatalf("send Delete: %v", err)
	}
}

// follow sends name's Follow of actorIRI to inbox and returns its id.
func (p *mastoPeer) follow(t *testing.T, name, actorIRI, inbox string) string {
	t.Helper()
	id := fmt.Sprintf("%s#follows/%d", p.iri(name), time.Now().UnixNano())
	p.mu.Lock()
	p.follows[id] = actorIRI
	p.mu.Unlock()
	p.send(t, name, inbox, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": id, "type": "Follow", "actor": p.iri(name), "object": actorIRI})
	return id
}

// send posts activity to inbox, signed by name's key.
func (p *mastoPeer) send(t *testing.T, name, inbox string, activity map[string]any) error {
	t.Helper()
	body, err := json.Marshal(activity)
	if err != nil {
		t.Fatal(err)
	}
	return p.client.Post(t.Context(), inbox, body, &federation.Signer{KeyID: p.iri(name) + "#main-key", Key: p.keys.RSA})
}

// received returns the activities of type typ received so far.
func (p *mastoPeer) received(typ string) []mastoActivity {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []mastoActivity
	for _, a := range p.got {
		if a.Type == typ {
			out = append(out, a)
		}
	}
	return out
}

// rawOf returns the bodies of the activities of type typ received so far.
func (p *mastoPeer) rawOf(typ string) []json.RawMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]json.RawMessage(nil), p.raw[typ]...)
}

func (p *mastoPeer) status(iri string) (mastoStatus, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.statuses[iri]
	return st, ok
}

func (p *mastoPeer) boosted(iri string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for id, post := range p.boosts {
		if post == iri {
			ids = append(ids, id)
		}
	}
	return ids
}

// checkNoProblems fails t with what the peer would have refused.
func (p *mastoPeer) checkNoProblems(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.problems {
		t.Errorf("Mastodon-like peer: %s", pr)
	}
}

// originKeys resolves a keyId by fetching the actor it names from its own
// origin and requiring that the actor publishes that key.
type originKeys struct{ client *federation.Client }

func (k originKeys) ResolveKey(ctx context.Context, keyID string, _ bool) (federation.PublicKey, error) {
	actorIRI, _, _ := strings.Cut(keyID, "#")
	body, err := k.client.Get(ctx, actorIRI, federation.AcceptActivity, nil)
	if err != nil {
		return federation.PublicKey{}, err
	}
	var doc struct {
		ID        string `json:"id"`
		PublicKey struct {
			ID, Owner, PublicKeyPem string
		} `json:"publicKey"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&doc); err != nil {
		return federation.PublicKey{}, err
	}
	if doc.ID != actorIRI || doc.PublicKey.ID != keyID || doc.PublicKey.Owner != actorIRI {
		return federation.PublicKey{}, fmt.Errorf("actor %s does not publish key %s", actorIRI, keyID)
	}
	key, err := federation.ParsePublicKeyPEM(doc.PublicKey.PublicKeyPem)
	if err != nil {
		return federation.PublicKey{}, err
	}
	return federation.PublicKey{ID: keyID, Owner: actorIRI, Key: key}, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// idOf returns an object given as an IRI or as an object with an id.
func idOf(v any) string {
	if m, ok := v.(map[string]any); ok {
		return str(m["id"])
	}
	return str(v)
}
