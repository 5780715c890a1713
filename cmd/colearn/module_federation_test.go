package main

// The syllabus across real instances: a module added, edited and retired
// on A reaches a member on B (a colearn instance) and a Fedify follower as
// Create, Update and Delete of the module's Article from the course, and
// every module id and the modules collection can be fetched.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
)

// fedifyReceived is an activity the Fedify peer verified, with the JSON-LD
// Fedify made of it.
type fedifyReceived struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Actor      string         `json:"actor"`
	Object     string         `json:"object"`
	ObjectType string         `json:"objectType"`
	JSON       map[string]any `json:"json"`
}

func (p *fedifyPeer) waitFor(t *testing.T, what string, match func(fedifyReceived) bool) fedifyReceived {
	t.Helper()
	return waitFedify(t, p, what, 30*time.Second, match)
}

// fedifyObject returns the object of an activity as Fedify compacted it.
func (a fedifyReceived) object() map[string]any {
	o, _ := a.JSON["object"].(map[string]any)
	return o
}

func TestModulesAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	peer := startFedifyPeer(t)
	a := startInstance(t, testInstanceOptions{})
	b := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a, b)
	a.createUser(t, "olga")
	b.createUser(t, "bob")
	olga, bob := a.user(t, "olga"), b.user(t, "bob")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "syllabus", Title: "A real syllabus"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)

	if _, err := b.actions.JoinRemote(ctx, bob, "@syllabus@"+a.addr); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob's enrollment", 15*time.Second, func() (bool, error) {
		return b.enrollmentState(ctx, "bob", courseIRI) == courses.StateAccepted, nil
	})
	var follow fedifyActivity
	peer.mustCall(t, http.MethodPost, "/control/follow", map[string]any{"actor": courseIRI}, &follow)
	if !follow.OK {
		t.Fatalf("Fedify's Follow was not delivered: %+v", follow)
	}
	peer.waitReceived(t, "the Accept of its Follow", func(x fedifyActivity) bool { return x.Type == "Accept" && x.Object == follow.ID })

	// Added on A: B keeps it as a lesson of the course, Fedify gets Create.
	m, err := a.actions.AddModule(ctx, olga, course, courses.ModuleDraft{Title: "Types", Summary: "What a type is.",
		Body: "Every value has a **type**.", EstimatedMinutes: 20})
	if err != nil {
		t.Fatal(err)
	}
	moduleIRI := a.urls.Module(course.Slug, m.ID)
	eventually(t, "the module on B", 20*time.Second, func() (bool, error) {
		p, err := b.post(ctx, moduleIRI)
		return err == nil && p.Type == "Article" && p.Name == "Types" && p.AuthorIRI == courseIRI && p.CourseIRI == courseIRI &&
			strings.Contains(p.Content, "<strong>type</strong>"), err
	})
	created := peer.waitFor(t, "Create of the module", func(x fedifyReceived) bool {
		return x.Type == "Create" && x.Actor == courseIRI && x.Object == moduleIRI
	})
	if created.ObjectType != "Article" {
		t.Errorf("Fedify parsed the created object as %q, want Article", created.ObjectType)
	}
	if o := created.object(); o["name"] != "Types" || !strings.Contains(fmt.Sprint(o["summary"]), "What a type is.") {
		t.Errorf("Fedify's view of the Article: %v", o)
	}

	// The module and the syllabus are dereferenceable.
	status, body := a.get(t, fmt.Sprintf("/courses/%s/modules/%d", course.Slug, m.ID), "application/activity+json")
	var doc map[string]any
	if status != http.StatusOK || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("GET the module: %d %s", status, body)
	}
	if doc["type"] != "Article" || doc["context"] != courseIRI || !slices.Contains(anyStrings(doc["attributedTo"]), a.urls.User("olga")) ||
		doc["duration"] != "PT20M" || doc["revision"] != float64(1) || doc["position"] != float64(1) {
		t.Errorf("module document: %s", body)
	}
	status, body = a.get(t, "/courses/"+course.Slug+"/modules", "application/activity+json")
	if status != http.StatusOK || !strings.Contains(string(body), `"OrderedCollection"`) || !strings.Contains(string(body), moduleIRI) {
		t.Errorf("modules collection: %d %s", status, body)
	}
	if status, body = a.get(t, fmt.Sprintf("/courses/%s/modules/%d", course.Slug, m.ID), "text/html"); status != http.StatusOK ||
		!strings.Contains(string(body), "Every value has a <strong>type</strong>.") {
		t.Errorf("module page for browsers: %d", status)
	}

	// Edited on A: Update reaches both.
	if _, err := a.actions.EditModule(ctx, olga, course, m.ID, 1, courses.ModuleDraft{Title: "Types and values", Summary: "What a type is.",
		Body: "Every value has a type, and a zero value.", EstimatedMinutes: 20}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edit on B", 20*time.Second, func() (bool, error) {
		p, err := b.post(ctx, moduleIRI)
		return err == nil && p.Name == "Types and values" && strings.Contains(p.Content, "zero value"), err
	})
	updated := peer.waitFor(t, "Update of the module", func(x fedifyReceived) bool {
		return x.Type == "Update" && x.Actor == courseIRI && x.Object == moduleIRI
	})
	if o := updated.object(); o["name"] != "Types and values" {
		t.Errorf("Fedify's view of the updated Article: %v", o)
	}

	// A stale edit is refused and reaches nobody.
	if _, err := a.actions.EditModule(ctx, olga, course, m.ID, 1, courses.ModuleDraft{Title: "Stale"}); !errors.Is(err, courses.ErrConflict) {
		t.Fatalf("stale edit: %v", err)
	}
	var stale int
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_activities WHERE body LIKE '%"Stale"%'`).Scan(&stale); err != nil || stale != 0 {
		t.Fatalf("%d activities carry the refused edit (%v)", stale, err)
	}

	// Retired on A: Delete reaches both; the id answers 410 Gone.
	if _, err := a.actions.RetireModule(ctx, olga, course, m.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the retirement on B", 20*time.Second, func() (bool, error) {
		p, err := b.post(ctx, moduleIRI)
		return err == nil && p.Deleted, err
	})
	peer.waitFor(t, "Delete of the module", func(x fedifyReceived) bool {
		return x.Type == "Delete" && x.Actor == courseIRI && x.Object == moduleIRI
	})
	if status, body := a.get(t, fmt.Sprintf("/courses/%s/modules/%d", course.Slug, m.ID), "application/activity+json"); status != http.StatusGone ||
		!strings.Contains(string(body), "Tombstone") {
		t.Errorf("GET a retired module: %d %s", status, body)
	}
}

func anyStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// With authorized fetch, module documents and the syllabus need a signed
// GET, like every other collection; browsers still get the pages.
func TestModulesAuthorizedFetch(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{AuthorizedFetch: true})
	a.createUser(t, "olga")
	olga := a.user(t, "olga")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "closed", Title: "Closed"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.actions.AddModule(ctx, olga, course, courses.ModuleDraft{Title: "One", Body: "Text"})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fmt.Sprintf("/courses/closed/modules/%d", m.ID), "/courses/closed/modules"} {
		if status, body := a.get(t, path, "application/activity+json"); status != http.StatusUnauthorized {
			t.Errorf("unsigned GET %s: %d %s, want 401", path, status, body)
		}
	}
	if status, _ := a.get(t, fmt.Sprintf("/courses/closed/modules/%d", m.ID), "text/html"); status != http.StatusOK {
		t.Errorf("the module page for a browser: %d", status)
	}
}
