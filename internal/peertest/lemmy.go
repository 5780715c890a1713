package peertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Public is the ActivityStreams public collection.
const Public = "https://www.w3.org/ns/activitystreams#Public"

// LemmyCommunity is a Group on the peer that behaves as a Lemmy 0.19
// community does towards other servers:
//
//   - its actor document is Lemmy's (a Group with inbox, outbox, followers,
//     featured, moderators, publicKey and a shared inbox; no colearn terms);
//   - its inbox verifies every POST's HTTP signature (fetching the key from
//     the keyId, by GoToSocial's rules, VerifyGoToSocial) and requires the
//     key to be the activity's actor's, else 401;
//   - a Follow of the community is answered 200 and then with Accept (the
//     Follow embedded) to the follower's inbox, or Reject (RejectFollows);
//     Undo of a Follow (embedded, by the same actor) ends it;
//   - a Join, or any type Lemmy does not parse, gets 400;
//   - a Create of a Page or Note must name the community in audience, to or
//     cc and be public (else 400); it is then announced to every follower's
//     server as Lemmy does, Announce of the Create, embedded as received.
//
// Deliveries it makes run in the background, as Lemmy's queue does; the
// test waits for them when it ends.
type LemmyCommunity struct {
	*Actor
	peer *Peer

	mu        sync.Mutex
	seq       int
	followers map[string]string // actor IRI → the inbox its server shares, else its own
	refused   []string
	creates   []map[string]any
	failures  []string
	rejecting bool
	sending   sync.WaitGroup
}

// RejectFollows makes the community answer Follows, from now on, with
// Reject (as Lemmy does for a banned user) instead of Accept.
func (c *LemmyCommunity) RejectFollows(on bool) {
	c.mu.Lock()
	c.rejecting = on
	c.mu.Unlock()
}

// NewLemmyCommunity creates and publishes a community named name at
// /c/NAME, with its inbox at /c/NAME/inbox.
func (p *Peer) NewLemmyCommunity(name, title string) *LemmyCommunity {
	p.t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		p.t.Fatalf("peertest: generate key: %v", err)
	}
	iri := p.URL + "/c/" + name
	a := &Actor{IRI: iri, KeyID: iri + "#main-key", Key: key, peer: p}
	a.Doc = map[string]any{
		"@context":                []any{"https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"},
		"id":                      iri,
		"type":                    "Group",
		"preferredUsername":       name,
		"name":                    title,
		"summary":                 "<p>A Lemmy community.</p>",
		"inbox":                   iri + "/inbox",
		"outbox":                  iri + "/outbox",
		"followers":               iri + "/followers",
		"featured":                iri + "/featured",
		"attributedTo":            iri + "/moderators",
		"postingRestrictedToMods": false,
		"sensitive":               false,
		"endpoints":               map[string]any{"sharedInbox": p.URL + "/inbox"},
		"publicKey":               a.PublicKey(a.KeyID),
		"published":               "2026-01-01T00:00:00Z",
	}
	p.Publish(a)
	c := &LemmyCommunity{Actor: a, peer: p, followers: map[string]string{}}
	p.HandleFunc(p.Path(iri+"/inbox"), c.inbox)
	p.t.Cleanup(c.sending.Wait)
	return c
}

// Followers lists the actors following the community.
func (c *LemmyCommunity) Followers() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for f := range c.followers {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// Refused lists what the community's inbox refused and why, oldest first.
func (c *LemmyCommunity) Refused() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.refused)
}

// Creates lists the Create activities the community accepted.
func (c *LemmyCommunity) Creates() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.creates)
}

// Failures lists the deliveries of the community that failed.
func (c *LemmyCommunity) Failures() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.failures)
}

func (c *LemmyCommunity) refuse(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.mu.Lock()
	c.refused = append(c.refused, msg)
	c.mu.Unlock()
	http.Error(w, msg, status)
}

func (c *LemmyCommunity) inbox(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	keyID, err := VerifyGoToSocial(r, body)
	if err != nil {
		c.refuse(w, http.StatusUnauthorized, "signature: %v", err)
		return
	}
	var act map[string]any
	if err := json.Unmarshal(body, &act); err != nil {
		c.refuse(w, http.StatusBadRequest, "Failed to parse activity: %v", err)
		return
	}
	actor, _ := act["actor"].(string)
	if actor == "" || !strings.HasPrefix(keyID, actor+"#") {
		c.refuse(w, http.StatusUnauthorized, "key %s is not the key of the actor %q", keyID, actor)
		return
	}
	switch act["type"] {
	case "Follow":
		c.follow(w, act, actor)
	case "Undo":
		c.undo(w, act, actor)
	case "Create":
		c.create(w, act)
	default: // Join among them: Lemmy's activity enum has no such variant
		c.refuse(w, http.StatusBadRequest, "Failed to parse activity of type %v", act["type"])
	}
}

func (c *LemmyCommunity) follow(w http.ResponseWriter, act map[string]any, actor string) {
	if act["object"] != c.IRI {
		c.refuse(w, http.StatusBadRequest, "Follow of %v, not of this community", act["object"])
		return
	}
	doc, err := fetchJSON(actor)
	if err != nil {
		c.refuse(w, http.StatusBadRequest, "follower %s: %v", actor, err)
		return
	}
	personal, _ := doc["inbox"].(string)
	shared := personal
	if ep, ok := doc["endpoints"].(map[string]any); ok {
		if s, ok := ep["sharedInbox"].(string); ok && s != "" {
			shared = s
		}
	}
	if personal == "" {
		c.refuse(w, http.StatusBadRequest, "follower %s has no inbox", actor)
		return
	}
	c.mu.Lock()
	answer := "Accept"
	if c.rejecting {
		answer = "Reject"
	} else {
		c.followers[actor] = shared
	}
	c.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	c.deliverLater(personal, c.activity(strings.ToLower(answer), answer, act, []string{actor}, nil))
}

func (c *LemmyCommunity) undo(w http.ResponseWriter, act map[string]any, actor string) {
	obj, ok := act["object"].(map[string]any)
	if !ok || obj["type"] != "Follow" || obj["actor"] != actor || obj["object"] != c.IRI {
		c.refuse(w, http.StatusBadRequest, "Undo: object must be the actor's Follow of this community, embedded")
		return
	}
	c.mu.Lock()
	delete(c.followers, actor)
	c.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (c *LemmyCommunity) create(w http.ResponseWriter, act map[string]any) {
	obj, ok := act["object"].(map[string]any)
	if !ok || (obj["type"] != "Page" && obj["type"] != "Note") {
		c.refuse(w, http.StatusBadRequest, "Create: object must be a Page or Note, embedded")
		return
	}
	if !names(obj["audience"], c.IRI) && !names(obj["to"], c.IRI) && !names(obj["cc"], c.IRI) {
		c.refuse(w, http.StatusBadRequest, "Create: the post names neither in audience nor to/cc this community")
		return
	}
	if !names(obj["to"], Public) && !names(obj["cc"], Public) {
		c.refuse(w, http.StatusBadRequest, "Create: the post is not public")
		return
	}
	c.mu.Lock()
	c.creates = append(c.creates, act)
	c.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	c.AnnounceLater(act)
}

// AnnounceLater sends Announce of object (an activity or a post, embedded,
// or an IRI) to every follower's server, in the background, as the
// community announces what is posted in it.
func (c *LemmyCommunity) AnnounceLater(object any) {
	announce := c.activity("announce", "Announce", object, []string{Public}, []string{c.IRI + "/followers"})
	for _, inbox := range c.followerInboxes() {
		c.deliverLater(inbox, announce)
	}
}

// Announce sends Announce of object to inbox now, as the community, and
// returns the Announce's id and the receiver's answer.
func (c *LemmyCommunity) Announce(ctx context.Context, inbox string, object any) (string, int, error) {
	body := c.activity("announce", "Announce", object, []string{Public}, []string{c.IRI + "/followers"})
	var head struct{ ID string }
	json.Unmarshal(body, &head)
	status, err := c.deliver(ctx, inbox, body)
	return head.ID, status, err
}

func (c *LemmyCommunity) followerInboxes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, inbox := range c.followers {
		if !seen[inbox] {
			seen[inbox] = true
			out = append(out, inbox)
		}
	}
	slices.Sort(out)
	return out
}

// activity is an activity of the community with a fresh id on its origin,
// shaped as Lemmy's (https://lemmy/activities/TYPE/ID).
func (c *LemmyCommunity) activity(kind, typ string, object any, to, cc []string) []byte {
	c.mu.Lock()
	c.seq++
	n := c.seq
	c.mu.Unlock()
	act := map[string]any{
		"@context": []any{"https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"},
		"id":       fmt.Sprintf("%s/activities/%s/%d-%d", c.peer.URL, kind, time.Now().UnixNano(), n),
		"type":     typ,
		"actor":    c.IRI,
		"object":   object,
		"to":       to,
	}
	if cc != nil {
		act["cc"] = cc
	}
	b, _ := json.Marshal(act)
	return b
}

func (c *LemmyCommunity) deliverLater(inbox string, body []byte) {
	c.sending.Add(1)
	go func() {
		defer c.sending.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		status, err := c.deliver(ctx, inbox, body)
		if err == nil && status/100 != 2 {
			err = fmt.Errorf("status %d", status)
		}
		if err != nil {
			c.mu.Lock()
			c.failures = append(c.failures, fmt.Sprintf("%s: %v", inbox, err))
			c.mu.Unlock()
		}
	}()
}

// deliver POSTs body to inbox, signed with the community's key.
func (c *LemmyCommunity) deliver(ctx context.Context, inbox string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, inbox, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ActivityJSON)
	c.Sign(req, body, SignOptions{})
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// names reports whether an addressing property (an IRI or a list of them)
// holds iri.
func names(v any, iri string) bool {
	switch x := v.(type) {
	case string:
		return x == iri
	case []any:
		for _, e := range x {
			if e == iri {
				return true
			}
		}
	}
	return false
}

// fetchJSON GETs an ActivityStreams document, unsigned.
func fetchJSON(iri string) (map[string]any, error) {
	req, err := http.NewRequest(http.MethodGet, iri, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", ActivityJSON)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var doc map[string]any
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc)
	return doc, err
}
