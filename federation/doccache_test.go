package federation

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
)

// counter renders "body N" for the Nth render of a document showing scopes.
type counter struct {
	n      int
	scopes []courses.Scope
	during func() // runs in the middle of a render
}

func (c *counter) render(ctx context.Context) (Doc, []courses.Scope, error) {
	c.n++
	if c.during != nil {
		c.during()
	}
	return Doc{Body: fmt.Appendf(nil, "body %d", c.n)}, c.scopes, nil
}

func get(t *testing.T, c *DocCache, key string, r *counter) string {
	t.Helper()
	d, err := c.Get(context.Background(), key, r.render)
	if err != nil {
		t.Fatal(err)
	}
	if d.ETag == "" {
		t.Errorf("document %s has no ETag", key)
	}
	return string(d.Body)
}

func TestDocCache(t *testing.T) {
	t.Parallel()
	course := courses.CourseScope(1)
	other := courses.CourseScope(2)
	tests := []struct {
		name string
		// step runs between the first and the second Get of one document
		// showing course; want is the second Get's body.
		step func(c *DocCache, r *counter)
		want string
	}{
		{"unchanged: served from memory", func(*DocCache, *counter) {}, "body 1"},
		{"its scope changed", func(c *DocCache, _ *counter) { c.Invalidate("", course) }, "body 2"},
		{"another scope changed", func(c *DocCache, _ *counter) { c.Invalidate("", other) }, "body 1"},
		{"a change of this process is pending", func(c *DocCache, _ *counter) { c.Changing("tok", []courses.Scope{course}) }, "body 2"},
		{"the listener reconnected", func(c *DocCache, _ *counter) { c.setListening(true) }, "body 2"},
		{"the listener is down", func(c *DocCache, _ *counter) { c.setListening(false) }, "body 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewDocCache(0)
			c.setListening(true)
			r := &counter{scopes: []courses.Scope{course}}
			if got := get(t, c, "doc", r); got != "body 1" {
				t.Fatalf("first Get = %q", got)
			}
			tt.step(c, r)
			if got := get(t, c, "doc", r); got != tt.want {
				t.Errorf("second Get = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDocCachePending(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	c := NewDocCache(0)
	c.NowFunc = func() time.Time { return now }
	c.setListening(true)
	course := courses.CourseScope(1)
	r := &counter{scopes: []courses.Scope{course}}
	get(t, c, "doc", r)

	// While this process's change is pending, every Get renders and none is
	// kept; the notice ends the wait.
	c.Changing("tok", []courses.Scope{course})
	get(t, c, "doc", r)
	get(t, c, "doc", r)
	if r.n != 3 {
		t.Fatalf("%d renders while a change is pending, want 3", r.n)
	}
	c.Invalidate("tok", course)
	get(t, c, "doc", r)
	get(t, c, "doc", r)
	if r.n != 4 {
		t.Fatalf("%d renders after the notice, want 4", r.n)
	}

	// A notice for an earlier change does not end the wait for a later one.
	c.Changing("first", []courses.Scope{course})
	c.Changing("second", []courses.Scope{course})
	c.Invalidate("first", course)
	get(t, c, "doc", r)
	get(t, c, "doc", r)
	if r.n != 6 {
		t.Fatalf("%d renders while the second change is pending, want 6", r.n)
	}

	// A change whose transaction rolled back sends no notice: the wait ends
	// after pendingWait, and what is rendered then is kept.
	now = now.Add(pendingWait)
	get(t, c, "doc", r)
	get(t, c, "doc", r)
	if r.n != 7 {
		t.Fatalf("%d renders after the wait ended, want 7", r.n)
	}
}

func TestDocCacheRenderRacingAChange(t *testing.T) {
	t.Parallel()
	c := NewDocCache(0)
	c.setListening(true)
	course := courses.CourseScope(1)
	r := &counter{scopes: []courses.Scope{course}}
	// The change commits while the document is being rendered from the old
	// state: that render must not be kept.
	r.during = func() { c.Invalidate("", course) }
	get(t, c, "doc", r)
	r.during = nil
	if got := get(t, c, "doc", r); got != "body 2" {
		t.Errorf("after a change during the render, Get = %q, want a fresh render", got)
	}
	if got := get(t, c, "doc", r); got != "body 2" {
		t.Errorf("third Get = %q, want the kept second render", got)
	}
}

func TestDocCacheErrorsAndBounds(t *testing.T) {
	t.Parallel()
	c := NewDocCache(3)
	c.setListening(true)
	n := 0
	missing := func(context.Context) (Doc, []courses.Scope, error) {
		n++
		return Doc{}, nil, courses.ErrNotFound
	}
	for range 2 {
		if _, err := c.Get(context.Background(), "nobody", missing); !errors.Is(err, courses.ErrNotFound) {
			t.Fatalf("Get of a missing document = %v", err)
		}
	}
	if n != 2 {
		t.Errorf("a missing document was rendered %d times for 2 Gets: not-found must not be kept", n)
	}
	for i := range 10 {
		get(t, c, fmt.Sprint("doc", i), &counter{})
		if len(c.docs) > 3 {
			t.Fatalf("cache holds %d documents, want at most 3", len(c.docs))
		}
	}
	r := &counter{}
	get(t, c, "doc9", r)
	if r.n != 0 {
		t.Error("the latest document was not kept")
	}

	var none *DocCache
	r = &counter{}
	get(t, none, "doc", r)
	get(t, none, "doc", r)
	if r.n != 2 {
		t.Errorf("a nil cache rendered %d times for 2 Gets", r.n)
	}
}

func TestDocCacheBytesBound(t *testing.T) {
	t.Parallel()
	c := NewDocCache(0)
	c.setListening(true)
	big := func(n int) RenderFunc {
		return func(context.Context) (Doc, []courses.Scope, error) { return Doc{Body: make([]byte, n)}, nil, nil }
	}
	if _, err := c.Get(context.Background(), "huge", big(maxDocBytes+1)); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.docs["huge"]; ok {
		t.Error("a document above maxDocBytes was kept")
	}
	for i := range 2 * maxBytes / maxDocBytes {
		if _, err := c.Get(context.Background(), fmt.Sprint("doc", i), big(maxDocBytes)); err != nil {
			t.Fatal(err)
		}
		if c.bytes > maxBytes {
			t.Fatalf("cache holds %d bytes, want at most %d", c.bytes, maxBytes)
		}
	}
}
