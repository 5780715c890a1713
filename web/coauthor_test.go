package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/colearn/colearn/courses"
)

// The co-authoring pages refuse what they must and change nothing then:
// the co-authors page is the owner's alone, bad handles and unknown grants
// are precise 4xx, an invitation is answered only by its invitee and only
// once, and removing a remote course's post needs a moderator's grant. The
// flows that succeed across servers are in cmd/colearn
// (TestBrowserCoauthoring, TestCoauthorChangesAreFresh...).
func TestWebCoauthoringRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann, ben := b.signedIn("ann", false), b.signedIn("ben", false)
	b.newCourse(ann, "go", "Go", nil)
	grants := func() int { return b.count(`SELECT count(*) FROM course_grants`) }
	sent := func() int { return b.count(`SELECT count(*) FROM outbox_activities`) }
	before := sent()

	mustContain(t, b.get(ann, "/courses/go"), `id="coauthors-link"`)
	mustNotContain(t, b.get(ben, "/courses/go"), `id="coauthors-link"`)
	r := b.get(ann, "/courses/go/coauthors")
	if r.status != http.StatusOK {
		t.Fatalf("the owner's co-authors page: %d", r.status)
	}
	mustContain(t, r, `id="invite-form"`, "No one on another server has been invited yet.")
	if r := b.get(ben, "/courses/go/coauthors"); r.status != http.StatusForbidden {
		t.Fatalf("a learner opens the co-authors page: %d", r.status)
	}
	for _, try := range []struct {
		name   string
		c      *http.Client
		path   string
		form   url.Values
		status int
		says   string
	}{
		{"a learner invites", ben, "/courses/go/coauthors/invite", url.Values{"handle": {"@bob@127.0.0.1:1"}, "role": {"author"}}, http.StatusForbidden, "Only the course&#39;s owner"},
		{"a handle without a server", ann, "/courses/go/coauthors/invite", url.Values{"handle": {"bob"}, "role": {"author"}}, http.StatusUnprocessableEntity, "Handle: write it as @name@server.example"},
		{"a server that does not answer", ann, "/courses/go/coauthors/invite", url.Values{"handle": {"@bob@127.0.0.1:1"}, "role": {"author"}}, http.StatusBadGateway, "could not be reached"},
		{"a revocation naming no one", ann, "/courses/go/coauthors/revoke", url.Values{"actor": {""}}, http.StatusBadRequest, "Say whose grant"},
		{"a revocation of no grant", ann, "/courses/go/coauthors/revoke", url.Values{"actor": {"http://127.0.0.1:1/users/bob"}}, http.StatusNotFound, "does not exist"},
		{"a learner revokes", ben, "/courses/go/coauthors/revoke", url.Values{"actor": {"http://127.0.0.1:1/users/bob"}}, http.StatusForbidden, "may not"},
	} {
		r := b.post(try.c, try.path, try.form)
		if r.status != try.status {
			t.Fatalf("%s: %d, want %d\n%s", try.name, r.status, try.status, r.body)
		}
		mustContain(t, r, try.says)
		if n := grants(); n != 0 {
			t.Fatalf("after %s there are %d grants", try.name, n)
		}
	}

	// An invitation a remote course sent ann, as her inbox keeps it.
	annUser, err := b.store.UserByUsername(b.ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := "http://127.0.0.1:1/courses/rust"
	if err := b.store.ReceiveInvitation(b.ctx, b.pool, courses.Invitation{UserID: annUser.ID, InviteID: "http://127.0.0.1:1/activities/inv1",
		CourseIRI: courseIRI, CourseName: "Rust together", CourseInbox: courseIRI + "/inbox", Role: courses.RoleAuthor}); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := b.pool.QueryRow(b.ctx, `SELECT id FROM received_invitations`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	mustContain(t, b.get(ann, "/"), `id="invitations-link"`, "Invitations (1)")
	mustNotContain(t, b.get(ben, "/"), `id="invitations-link"`)
	mustContain(t, b.get(ann, "/invitations"), "Rust together", `action="/invitations/`+fmt.Sprint(id)+`/accept"`)
	state := func() string {
		var s string
		if err := b.pool.QueryRow(b.ctx, `SELECT state FROM received_invitations WHERE id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if r := b.post(ben, fmt.Sprintf("/invitations/%d/accept", id), nil); r.status != http.StatusNotFound || state() != "pending" || sent() != before {
		t.Fatalf("ben accepts ann's invitation: %d, state %s", r.status, state())
	}
	if r := b.post(ann, "/invitations/x/accept", nil); r.status != http.StatusNotFound {
		t.Fatalf("an invitation id that is not a number: %d", r.status)
	}
	if r := b.post(ann, fmt.Sprintf("/invitations/%d/accept", id), nil); r.status != http.StatusSeeOther || state() != "accepted" {
		t.Fatalf("ann accepts: %d, state %s", r.status, state())
	}
	if n := b.count(`SELECT count(*) FROM outbox_activities WHERE type = 'Accept' AND body LIKE '%activities/inv1%'`); n != 1 {
		t.Fatalf("%d Accepts of the invitation stored", n)
	}
	if r := b.post(ann, fmt.Sprintf("/invitations/%d/decline", id), nil); r.status != http.StatusConflict || state() != "accepted" {
		t.Fatalf("ann declines what she accepted: %d, state %s", r.status, state())
	}
	mustNotContain(t, b.get(ann, "/"), `id="invitations-link"`)

	// Removing a post of a remote course needs a moderator's grant there;
	// an accepted author's invitation is not one.
	after := sent()
	if r := b.post(ann, "/remote/posts/remove", url.Values{"course": {courseIRI}, "iri": {"http://127.0.0.1:1/posts/1"}}); r.status != http.StatusForbidden || sent() != after {
		t.Fatalf("ann removes a post without a moderator's grant: %d, %d activities sent", r.status, sent()-after)
	}
	if r := b.post(ann, "/remote/syllabus/edit", url.Values{"course": {courseIRI}, "module": {"http://elsewhere.example/modules/1"}, "base": {"1"}, "title": {"T"}}); r.status != http.StatusBadRequest || sent() != after {
		t.Fatalf("an edit of a module on another server than the course's: %d", r.status)
	}
}
