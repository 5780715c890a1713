package inbox

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/outbox"
)

// TestReasonQuotingANULDoesNotPoisonTheBatch: a Join whose object id holds
// \u0000 fails for good with a reason that quotes the id. Stored as it was,
// the NUL failed the batch's one statement for outcomes, so the Join and
// every other sender's activity in its batch stayed pending, claimed again
// and again. The reason is stored with the NUL written out, and the Likes
// beside it are applied.
func TestReasonQuotingANULDoesNotPoisonTheBatch(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, urls, _, _ := panicCourse(t)
	courseIRI := urls.Course("calm")
	evil, calm := "https://peer.example/users/evil", "https://other.example/users/calm"
	insert := func(id, actor, typ, body string) {
		if _, err := pool.Exec(ctx, `INSERT INTO inbox_activities (activity_id, actor_iri, type, recipient, body) VALUES ($1, $2, $3, $4, $5)`,
			id, actor, typ, courseIRI, body); err != nil {
			t.Fatal(err)
		}
	}
	join := "https://peer.example/a/1"
	insert(join, evil, "Join", `{"id":"`+join+`","type":"Join","actor":"`+evil+`","object":{"id":"https://peer.example/x\u0000y","type":"Group"}}`)
	const likes = 20
	for i := range likes {
		id := fmt.Sprintf("https://other.example/a/%d", i)
		insert(id, calm, "Like", `{"id":"`+id+`","type":"Like","actor":"`+calm+`","object":"https://peer.example/notes/9"}`)
	}
	p := &Processor{Pool: pool, Courses: courses.NewStore(pool), Fetcher: calmFetcher{}, Sender: &outbox.Sender{URLs: urls},
		URLs: urls, Retention: -1, PollInterval: 10 * time.Millisecond}
	outcome := processUntilDone(t, p, pool, likes+1)
	if msg := outcome[join]; msg == "" || strings.ContainsRune(msg, 0) {
		t.Errorf("the Join recorded %q, want its reason without a NUL", msg)
	}
	for id, msg := range outcome {
		if id != join && msg != "" {
			t.Errorf("%s recorded %q, want it applied", id, msg)
		}
	}
}
