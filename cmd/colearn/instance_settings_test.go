package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/pgtest"
)

func TestInstanceSetAndShow(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	db := []string{"--database-url", url, "--log-level", "warn"}
	rules := filepath.Join(t.TempDir(), "rules.md")
	if err := os.WriteFile(rules, []byte("1. Be *kind*.\n2. Share.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "", append([]string{"instance", "set", "--name", "Go Learners", "--description", "Peer learning",
		"--contact", "admin@learn.example.org", "--rules-file", rules}, db...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "name: Go Learners") || !strings.Contains(out, "Be *kind*") {
		t.Errorf("set printed %q", out)
	}
	// set changes only what it is given; rules may come from stdin.
	if _, _, err := runCLI(t, "Only rule: learn.", append([]string{"instance", "set", "--rules-file", "-"}, db...)...); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCLI(t, "", append([]string{"instance", "show"}, db...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: Go Learners", "description: Peer learning", "contact: admin@learn.example.org", "Only rule: learn."} {
		if !strings.Contains(out, want) {
			t.Errorf("show printed %q, want %q in it", out, want)
		}
	}
	// Bad input is refused and changes nothing.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--contact", "not a contact"}, "contact"},
		{[]string{"--name", strings.Repeat("n", courses.MaxInstanceNameLen+1)}, "name"},
		{[]string{"--rules-file", filepath.Join(t.TempDir(), "missing.md")}, "rules file"},
		{nil, "at least one"},
	} {
		if _, _, err := runCLI(t, "", append(append([]string{"instance", "set"}, tc.args...), db...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("instance set %q: error %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
	pool, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	id, err := courses.NewStore(pool).Identity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if id != (courses.Identity{Name: "Go Learners", Description: "Peer learning", Contact: "admin@learn.example.org", Rules: "Only rule: learn."}) {
		t.Errorf("identity after refused sets = %+v", id)
	}
}
