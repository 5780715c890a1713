package courses_test

import (
	"strings"
	"testing"
)

// TestCohostRefreshReasonIsStorable: a refresh failure's reason, which
// may quote the remote course, is cut to 500 bytes on a character
// boundary and stored without NUL or invalid bytes, rather than failing
// the statement (SQLSTATE 22021) and losing the failure.
func TestCohostRefreshReasonIsStorable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for name, reason := range map[string]string{
		"cut inside a character": strings.Repeat("a", 499) + "é and more",
		"a NUL":                  "served as https://evil.example/x\x00y",
		"invalid bytes":          "served as \xff\xfe",
	} {
		if err := b.store.CohostRefreshFailed(b.ctx, b.pool, "https://peer.example/courses/x", reason); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
