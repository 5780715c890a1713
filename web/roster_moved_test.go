package web_test

import (
	"testing"

	"github.com/colearn/colearn/courses"
)

// A remote member whose Move was accepted shows as "moved to …" on the
// course's member list; the others do not.
func TestRosterShowsMovedMembers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.newCourse(ann, "moves", "Moves", nil)
	c, err := b.store.CourseBySlug(b.ctx, "moves")
	if err != nil {
		t.Fatal(err)
	}
	for _, iri := range []string{"https://old.example/users/carol", "https://old.example/users/bob"} {
		if _, err := b.store.Enroll(b.ctx, b.pool, c, courses.Member{ActorIRI: iri, Name: iri[len("https://old.example/users/"):],
			Handle: "@x@old.example", Inbox: iri + "/inbox", Via: "follow", RequestID: iri + "#f"}); err != nil {
			t.Fatal(err)
		}
	}
	r := b.get(ann, "/courses/moves")
	mustContain(t, r, "carol", "bob")
	mustNotContain(t, r, "moved to")
	if err := b.store.RecordMove(b.ctx, b.pool, courses.Move{ActorIRI: "https://old.example/users/carol",
		MovedTo: "https://new.example/users/carol", ActivityID: "https://old.example/users/carol#move"}); err != nil {
		t.Fatal(err)
	}
	r = b.get(ann, "/courses/moves")
	mustContain(t, r, `moved to <a href="https://new.example/users/carol"`)
}
