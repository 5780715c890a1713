package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// actors is the driver's own fediverse server on loopback: n Person actors
// with RSA-2048 keys, their notes, and inboxes that take whatever the
// instance delivers (Accepts of their Follows, the course's Announces) and
// count it. It does not verify what arrives: that would bill the instance's
// cores for the driver's work.
type actors struct {
	base   string // http://127.0.0.1:PORT
	course string // the course IRI the notes are addressed to; set before posting
	keys   []*rsa.PrivateKey
	pems   []string
	srv    *http.Server

	accepted  atomic.Int64 // Accept activities received
	announced atomic.Int64 // Announce activities received
	mu        sync.Mutex
	acceptOf  map[string]bool // actor IRI → its Follow was accepted
}

// startActors generates n keys (on all cores) and serves the actors on a
// fresh loopback port until close.
func startActors(n int) (*actors, error) {
	a := &actors{keys: make([]*rsa.PrivateKey, n), pems: make([]string, n), acceptOf: map[string]bool{}}
	var g errgroup.Group
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return err
			}
			der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
			if err != nil {
				return err
			}
			a.keys[i], a.pems[i] = k, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("generate actor keys: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a.base = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{name}", a.actor)
	mux.HandleFunc("GET /users/{name}/notes/{n}", a.note)
	mux.HandleFunc("POST /users/{name}/inbox", a.inbox)
	mux.HandleFunc("POST /inbox", a.inbox)
	a.srv = &http.Server{Handler: mux}
	go a.srv.Serve(ln)
	return a, nil
}

func (a *actors) close() { a.srv.Close() }

func (a *actors) iri(i int) string         { return fmt.Sprintf("%s/users/a%d", a.base, i) }
func (a *actors) noteIRI(i, n int) string  { return fmt.Sprintf("%s/notes/%d", a.iri(i), n) }
func (a *actors) activity(i, n int) string { return fmt.Sprintf("%s/activities/%d", a.iri(i), n) }

// index parses "aN" into N, or -1.
func (a *actors) index(name string) int {
	var i int
	if _, err := fmt.Sscanf(name, "a%d", &i); err != nil || i < 0 || i >= len(a.keys) || name != fmt.Sprintf("a%d", i) {
		return -1
	}
	return i
}

const (
	asPublic    = "https://www.w3.org/ns/activitystreams#Public"
	contentType = "application/activity+json"
)

func writeJSON(w http.ResponseWriter, doc any) {
	w.Header().Set("Content-Type", contentType)
	json.NewEncoder(w).Encode(doc)
}

func (a *actors) actor(w http.ResponseWriter, r *http.Request) {
	i := a.index(r.PathValue("name"))
	if i < 0 {
		http.NotFound(w, r)
		return
	}
	id := a.iri(i)
	writeJSON(w, map[string]any{
		"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                id,
		"type":              "Person",
		"preferredUsername": fmt.Sprintf("a%d", i),
		"name":              fmt.Sprintf("Load actor %d", i),
		"inbox":             id + "/inbox",
		"outbox":            id + "/outbox",
		"followers":         id + "/followers",
		"endpoints":         map[string]string{"sharedInbox": a.base + "/inbox"},
		"publicKey":         map[string]string{"id": id + "#main-key", "owner": id, "publicKeyPem": a.pems[i]},
	})
}

// noteDoc is note n of actor i, addressed publicly and to course.
func (a *actors) noteDoc(i, n int, course string) map[string]any {
	return map[string]any{
		"id":           a.noteIRI(i, n),
		"type":         "Note",
		"attributedTo": a.iri(i),
		"content":      fmt.Sprintf("<p>Load note %d from actor %d</p>", n, i),
		"to":           []string{asPublic},
		"cc":           []string{course},
		"audience":     course,
		"published":    "2026-01-01T00:00:00Z",
	}
}

func (a *actors) note(w http.ResponseWriter, r *http.Request) {
	i := a.index(r.PathValue("name"))
	var n int
	if _, err := fmt.Sscanf(r.PathValue("n"), "%d", &n); i < 0 || err != nil {
		http.NotFound(w, r)
		return
	}
	doc := a.noteDoc(i, n, a.course)
	doc["@context"] = "https://www.w3.org/ns/activitystreams"
	writeJSON(w, doc)
}

func (a *actors) inbox(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var act struct {
		Type   string          `json:"type"`
		Object json.RawMessage `json:"object"`
	}
	json.Unmarshal(body, &act)
	switch act.Type {
	case "Accept":
		var follow struct {
			Actor string `json:"actor"`
		}
		json.Unmarshal(act.Object, &follow)
		a.mu.Lock()
		if strings.HasPrefix(follow.Actor, a.base) && !a.acceptOf[follow.Actor] {
			a.acceptOf[follow.Actor] = true
			a.accepted.Add(1)
		}
		a.mu.Unlock()
	case "Announce":
		a.announced.Add(1)
	}
	w.WriteHeader(http.StatusAccepted)
}
