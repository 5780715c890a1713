package courses_test

import (
	"errors"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
)

// TestSavePostKeepsOwnersAndTombstones drives SavePost, the one place every
// post is stored through, with the edits a hostile peer would send: another
// author's or another course's claim on a post changes nothing and is
// ErrNotOwner, even with a newer updated time; a tombstoned id is refused.
func TestSavePostKeepsOwnersAndTombstones(t *testing.T) {
	t.Parallel()
	b := setup(t)
	orig := courses.Post{IRI: "https://peer.example/posts/1", CourseIRI: "https://here.example/courses/a",
		AuthorIRI: "https://peer.example/users/bob", Content: "<p>bob wrote this</p>"}
	if _, created, err := b.store.SavePost(b.ctx, b.pool, orig); err != nil || !created {
		t.Fatalf("save: created %v, %v", created, err)
	}
	newer := time.Now().Add(time.Hour)
	for _, claim := range []courses.Post{
		{IRI: orig.IRI, CourseIRI: orig.CourseIRI, AuthorIRI: "https://peer.example/users/mallory", Content: "<p>mallory's</p>", Updated: newer},
		{IRI: orig.IRI, CourseIRI: "https://here.example/courses/b", AuthorIRI: orig.AuthorIRI, Content: "<p>moved</p>", Updated: newer},
	} {
		if _, _, err := b.store.SavePost(b.ctx, b.pool, claim); !errors.Is(err, courses.ErrNotOwner) || !errors.Is(err, courses.ErrForbidden) {
			t.Errorf("claim by %s in %s: %v, want ErrNotOwner", claim.AuthorIRI, claim.CourseIRI, err)
		}
	}
	got, err := b.store.PostByIRI(b.ctx, b.pool, orig.IRI)
	if err != nil || got.Content != orig.Content || got.AuthorIRI != orig.AuthorIRI || got.CourseIRI != orig.CourseIRI {
		t.Errorf("after the claims: %+v, %v", got, err)
	}

	gone := "https://peer.example/posts/2"
	if err := b.store.Tombstone(b.ctx, b.pool, gone, "https://peer.example/users/bob"); err != nil {
		t.Fatal(err)
	}
	late := courses.Post{IRI: gone, CourseIRI: orig.CourseIRI, AuthorIRI: orig.AuthorIRI, Content: "<p>back?</p>"}
	if _, _, err := b.store.SavePost(b.ctx, b.pool, late); !errors.Is(err, courses.ErrTombstoned) {
		t.Errorf("save of a tombstoned id: %v, want ErrTombstoned", err)
	}
	if n := count(t, b, `SELECT count(*) FROM posts WHERE iri = $1`, gone); n != 0 {
		t.Errorf("the tombstoned post is stored")
	}
}
