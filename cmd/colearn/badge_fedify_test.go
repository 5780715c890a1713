package main

// A learner on another kind of server (a Fedify peer, standing in for
// Mastodon) receives a badge as a direct Note mentioning them, with the
// badge's name, image and a link to its verification page; and a Note when
// it is revoked.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
)

type badgeFedifyReceived struct {
	Type          string         `json:"type"`
	ID            string         `json:"id"`
	Actor         string         `json:"actor"`
	ObjectType    string         `json:"objectType"`
	ObjectContent string         `json:"objectContent"`
	JSON          map[string]any `json:"json"`
}

func (p *fedifyPeer) waitNote(t *testing.T, what string, match func(badgeFedifyReceived) bool) badgeFedifyReceived {
	t.Helper()
	return waitFedify(t, p, what, 30*time.Second, match)
}

func TestFedifyLearnerReceivesBadgeNote(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	peer := startFedifyPeer(t)
	c := startInstance(t, testInstanceOptions{})
	c.createUser(t, "alice")
	alice := c.user(t, "alice")
	course, err := c.actions.CreateCourse(ctx, alice, courses.CourseDraft{Slug: "interop", Title: "Interoperability"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := c.urls.Course(course.Slug)
	var follow fedifyActivity
	peer.mustCall(t, http.MethodPost, "/control/follow", map[string]any{"actor": courseIRI}, &follow)
	if !follow.OK {
		t.Fatalf("Fedify's Follow was not delivered: %+v", follow)
	}
	fediIRI := peer.actorIRI()
	eventually(t, "fedi enrolled", 20*time.Second, func() (bool, error) {
		m, err := c.courses.MemberOf(ctx, c.pool, course.ID, fediIRI)
		return err == nil && m.State == courses.StateAccepted, nil
	})
	ach, err := c.actions.CreateAchievement(ctx, alice, course, courses.AchievementDraft{
		Name: "Federation basics", Description: "Speaks ActivityPub.", Criteria: "Followed a course.", ImageURL: "https://img.example/fed.png",
	})
	if err != nil {
		t.Fatal(err)
	}
	aw, err := c.actions.AwardBadge(ctx, alice, course, ach, fediIRI, "")
	if err != nil {
		t.Fatal(err)
	}
	if aw.ColearnPeer {
		t.Fatal("a Fedify actor was taken for a colearn instance")
	}
	page := c.actions.CredentialIRI(aw.PublicID)
	got := peer.waitNote(t, "the badge Note", func(a badgeFedifyReceived) bool {
		return a.Type == "Create" && a.Actor == courseIRI && a.ObjectType == "Note" && strings.Contains(a.ObjectContent, "Federation basics")
	})
	if !strings.Contains(got.ObjectContent, page) || !strings.Contains(got.ObjectContent, fediIRI) {
		t.Fatalf("the Note does not link the verification page and mention the learner: %s", got.ObjectContent)
	}
	raw, _ := json.Marshal(got.JSON)
	for _, want := range []string{`"Mention"`, fediIRI, "https://img.example/fed.png", `"Image"`} {
		if !strings.Contains(string(raw), want) {
			t.Fatalf("the Create lacks %s: %s", want, raw)
		}
	}
	if strings.Contains(string(raw), "https://www.w3.org/ns/activitystreams#Public") || strings.Contains(string(raw), `"as:Public"`) {
		t.Fatalf("the badge Note is public: %s", raw)
	}
	// The Note's id dereferences, as every id colearn emits must.
	if status, body := c.get(t, strings.TrimPrefix(c.actions.AwardNoteIRI(aw.PublicID), "http://"+c.addr), "application/activity+json"); status != 200 || !strings.Contains(string(body), "Federation basics") {
		t.Fatalf("GET the Note: %d %s", status, body)
	}

	if _, err := c.actions.RevokeBadge(ctx, alice, aw.PublicID); err != nil {
		t.Fatal(err)
	}
	peer.waitNote(t, "the revocation Note", func(a badgeFedifyReceived) bool {
		return a.Type == "Create" && a.ObjectType == "Note" && strings.Contains(a.ObjectContent, "revoked")
	})
}
