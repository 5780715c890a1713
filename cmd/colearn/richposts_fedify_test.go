package main

// Fedify, an independent implementation, reads a local post's mention,
// hashtag and content warning with its own vocabulary: in the Create it
// receives (verified with Fedify's own signature code) and in the post's
// document it fetches.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/outbox"
)

// fedifyNote is a Note as the Fedify peer's noteView reads it.
type fedifyNote struct {
	Summary   *string `json:"summary"`
	Sensitive *bool   `json:"sensitive"`
	Context   string  `json:"context"`
	Replies   string  `json:"replies"`
	Tags      []struct {
		Type, Name, Href string
	} `json:"tags"`
}

func TestFedifyReadsRichPost(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	peer := startFedifyPeer(t)
	c := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, c)
	c.createUser(t, "alice")
	c.createUser(t, "bob")
	alice := c.user(t, "alice")
	course, err := c.actions.CreateCourse(ctx, alice, courses.CourseDraft{Slug: "fedi-rich", Title: "Rich posts with Fedify"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := c.urls.Course(course.Slug)
	fediHandle := "@fedi@" + strings.TrimPrefix(peer.base, "http://")
	post, err := c.actions.PostWith(ctx, alice, courseIRI, "Hello "+fediHandle+" and @bob, this is about #Interop.", "",
		outbox.PostOptions{Summary: "interop talk"})
	if err != nil {
		t.Fatal(err)
	}
	check := func(where string, n fedifyNote) {
		t.Helper()
		if n.Summary == nil || *n.Summary != "interop talk" || n.Sensitive == nil || !*n.Sensitive {
			t.Errorf("%s: Fedify reads summary %s sensitive %s, want the content warning", where, fedifyJSON(t, n.Summary), fedifyJSON(t, n.Sensitive))
		}
		if n.Context != courseIRI || n.Replies != post.IRI+"/replies" {
			t.Errorf("%s: Fedify reads context %q replies %q", where, n.Context, n.Replies)
		}
		want := map[string]string{
			"Mention " + fediHandle:  peer.actorIRI(),
			"Mention @bob@" + c.addr: c.urls.User("bob"),
			"Hashtag #interop":       c.urls.Base() + "/tags/interop",
		}
		got := map[string]string{}
		for _, tag := range n.Tags {
			got[tag.Type+" "+tag.Name] = tag.Href
		}
		if len(got) != len(want) {
			t.Errorf("%s: Fedify reads the tags %v, want %v", where, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: Fedify reads tag %s with href %q, want %q", where, k, got[k], v)
			}
		}
	}

	// The mentioned Fedify actor gets alice's Create, signed.
	type received struct {
		Type, Actor, ObjectID string
		ObjectNote            *fedifyNote
	}
	got := waitFedify(t, peer, "alice's Create of the post", 20*time.Second, func(a received) bool {
		return a.Type == "Create" && a.ObjectID == post.IRI
	})
	if got.Actor != c.urls.User("alice") || got.ObjectNote == nil {
		t.Fatalf("Create by %s, note %+v", got.Actor, got.ObjectNote)
	}
	check("the Create", *got.ObjectNote)

	var fetched struct {
		Type string `json:"type"`
		fedifyNote
	}
	peer.mustCall(t, http.MethodPost, "/control/lookup", map[string]any{"url": post.IRI}, &fetched)
	if fetched.Type != "Note" {
		t.Fatalf("Fedify fetches the post as a %s", fetched.Type)
	}
	check("the fetched post", fetched.fedifyNote)
}
