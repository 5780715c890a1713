package federation

import (
	"fmt"
	"testing"
	"time"
)

func TestDocCache(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	c := NewDocCache(5*time.Second, 3)
	c.NowFunc = func() time.Time { return now }

	c.put(docActor, "Ada", []byte("actor"))
	c.put(docWebFinger, "ada", []byte("jrd"))
	if got, ok := c.get(docActor, "ada"); !ok || string(got) != "actor" {
		t.Fatalf("get of a fresh document = %q, %v", got, ok)
	}
	now = now.Add(5 * time.Second)
	if _, ok := c.get(docActor, "ada"); ok {
		t.Fatal("document still served after its TTL")
	}

	c.put(docActor, "ada", []byte("actor"))
	c.put(docWebFinger, "ada", []byte("jrd"))
	c.Forget("ADA")
	for _, kind := range []docKind{docActor, docWebFinger} {
		if _, ok := c.get(kind, "ada"); ok {
			t.Errorf("document of kind %d served after Forget", kind)
		}
	}

	for i := range 10 {
		c.put(docActor, fmt.Sprint("user", i), []byte("x"))
		if n := len(c.docs); n > 3 {
			t.Fatalf("cache holds %d documents, want at most 3", n)
		}
	}
	if _, ok := c.get(docActor, "user9"); !ok {
		t.Error("the latest document was not kept")
	}

	var none *DocCache
	none.put(docActor, "ada", []byte("x"))
	none.Forget("ada")
	if _, ok := none.get(docActor, "ada"); ok {
		t.Error("a nil cache served a document")
	}
}
