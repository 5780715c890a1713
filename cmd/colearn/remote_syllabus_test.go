package main

// A hostile course's syllabus: a Group on a peer that lists more modules
// than colearn reads from another server is refused before any module is
// fetched; one that lists a module of another origin is refused too.

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/colearn/colearn/internal/peertest"
	"github.com/colearn/colearn/outbox"
)

func TestRemoteSyllabusOfAHostileCourse(t *testing.T) {
	t.Parallel()
	ti := startInstance(t, testInstanceOptions{})
	ti.createUser(t, "bob")
	peer := peertest.Start(t)
	serveCourse := func(name string, items []string) string {
		g := peer.NewActor(name)
		g.Doc["type"] = "Group"
		peer.Publish(g)
		peer.Serve(peer.Path(g.IRI)+"/modules", map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
			"id": g.IRI + "/modules", "type": "OrderedCollection", "totalItems": len(items), "orderedItems": items})
		return g.IRI
	}
	var many []string
	for i := range outbox.MaxRemoteModules + 1 {
		many = append(many, fmt.Sprintf("%s/users/huge/modules/%d", peer.URL, i+1))
	}
	huge := serveCourse("huge", many)
	_, _, err := ti.actions.RemoteSyllabus(t.Context(), huge)
	if !errors.Is(err, outbox.ErrSyllabusTooLong) {
		t.Fatalf("a syllabus of %d modules: %v", len(many), err)
	}
	if n := peer.Hits("/users/huge/modules/1"); n != 0 {
		t.Errorf("a module of the refused syllabus was fetched %d times", n)
	}

	elsewhere := serveCourse("liar", []string{"http://127.0.0.2:1/modules/1"})
	if _, _, err := ti.actions.RemoteSyllabus(t.Context(), elsewhere); err == nil || !strings.Contains(err.Error(), "not on the course's server") {
		t.Fatalf("a syllabus listing a module of another origin: %v", err)
	}
}
