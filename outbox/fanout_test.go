package outbox

import (
	"slices"
	"testing"
)

func TestInterleaveHosts(t *testing.T) {
	t.Parallel()
	in := []string{
		"https://a.test/u/1", "https://a.test/u/2", "https://a.test/u/3",
		"https://b.test/u/1", "", "https://A.test/u/1", "https://a.test/u/2",
		"https://c.test/inbox",
	}
	want := []string{
		"https://a.test/u/1", "https://b.test/u/1", "https://c.test/inbox",
		"https://a.test/u/2", "https://a.test/u/3", "https://A.test/u/1",
	}
	if got := interleaveHosts(in); !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
