package main

// The command line, driven through run: what a person typing colearn
// commands sees on stdout, stderr and in the exit error.

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/internal/pgtest"
)

// runCLI runs a command line with stdin and returns its output and error.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestRunDispatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantErr    string // "" means success
		wantStdout string
		wantStderr string
	}{
		{name: "Version", args: []string{"version"}, wantStdout: "colearn " + version + "\n"},
		{name: "VersionFlag", args: []string{"--version"}, wantStdout: "colearn " + version + "\n"},
		{name: "Help", args: []string{"help"}, wantStdout: "Usage:"},
		{name: "NoCommand", args: nil, wantErr: "no command given", wantStderr: "Usage:"},
		{name: "UnknownCommand", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`, wantStderr: "Usage:"},
		{name: "UnknownUserCommand", args: []string{"user", "delete"}, wantErr: "unknown user command", wantStderr: "colearn user create"},
		{name: "UserCreateWithoutUsername", args: []string{"user", "create"}, wantErr: "--username is required", wantStderr: "-username"},
		{name: "ServeBadFlag", args: []string{"serve", "--no-such-flag"}, wantErr: "no-such-flag", wantStderr: "Usage: colearn serve"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, err := runCLI(t, "", tc.args...)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("run %q: %v\nstderr: %s", tc.args, err, stderr)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("run %q succeeded, want an error containing %q", tc.args, tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("run %q: error %q, want it to contain %q", tc.args, err, tc.wantErr)
			}
			if !strings.Contains(stdout, tc.wantStdout) {
				t.Errorf("run %q: stdout %q, want it to contain %q", tc.args, stdout, tc.wantStdout)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("run %q: stderr %q, want it to contain %q", tc.args, stderr, tc.wantStderr)
			}
		})
	}
}

func TestUserCreate(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	count := func(t *testing.T, query string) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("ShortPassword", func(t *testing.T) {
		_, stderr, err := runCLI(t, "short\n", "user", "create", "--username", "dave", "--database-url", url, "--log-level", "warn")
		if err == nil {
			t.Fatalf("user create with a 5-character password succeeded")
		}
		if !strings.Contains(err.Error(), "at least 10 characters") {
			t.Errorf("error %q does not give the password rule; stderr %s", err, stderr)
		}
		if n := count(t, `SELECT count(*) FROM users WHERE username = 'dave'`); n != 0 {
			t.Errorf("%d users named dave after a refused create", n)
		}
		if n := count(t, `SELECT count(*) FROM handles WHERE name = 'dave'`); n != 0 {
			t.Errorf("%d handles named dave after a refused create", n)
		}
		if n := count(t, `SELECT count(*) FROM actor_keys WHERE owner = 'dave'`); n != 0 {
			t.Errorf("%d key pairs for dave after a refused create", n)
		}
	})

	t.Run("Admin", func(t *testing.T) {
		stdout, stderr, err := runCLI(t, "a long enough password\n", "user", "create", "--username", "Erin", "--admin",
			"--display-name", "Erin E.", "--database-url", url, "--log-level", "warn")
		if err != nil {
			t.Fatalf("user create: %v\nstderr: %s", err, stderr)
		}
		if stdout != "created admin erin\n" {
			t.Errorf("stdout = %q, want %q", stdout, "created admin erin\n")
		}
		if n := count(t, `SELECT count(*) FROM users WHERE username = 'erin' AND is_admin AND display_name = 'Erin E.'`); n != 1 {
			t.Errorf("%d admin users named erin, want 1", n)
		}
		if n := count(t, `SELECT count(*) FROM actor_keys WHERE owner = 'erin'`); n != 1 {
			t.Errorf("%d key pairs for erin, want 1", n)
		}
	})

	t.Run("Taken", func(t *testing.T) {
		_, _, err := runCLI(t, "another long password\n", "user", "create", "--username", "erin", "--database-url", url, "--log-level", "warn")
		if err == nil || !strings.Contains(err.Error(), `create user "erin"`) {
			t.Errorf("second user create of erin: %v, want an error naming the user", err)
		}
		if n := count(t, `SELECT count(*) FROM users WHERE username = 'erin'`); n != 1 {
			t.Errorf("%d users named erin, want 1", n)
		}
	})

	t.Run("NoPassword", func(t *testing.T) {
		_, _, err := runCLI(t, "", "user", "create", "--username", "frank", "--database-url", url)
		if err == nil || !strings.Contains(err.Error(), "no password on stdin") {
			t.Errorf("user create with empty stdin: %v, want no password on stdin", err)
		}
	})
}

func TestReadPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		stdin   io.Reader
		want    string
		wantErr string
	}{
		{name: "FirstLine", stdin: strings.NewReader("first secret\nsecond line\n"), want: "first secret"},
		{name: "CRLF", stdin: strings.NewReader("windows secret\r\n"), want: "windows secret"},
		{name: "NoNewline", stdin: strings.NewReader("piped secret"), want: "piped secret"},
		{name: "InnerSpaces", stdin: strings.NewReader("  spaced  secret \n"), want: "  spaced  secret "},
		{name: "Empty", stdin: strings.NewReader(""), wantErr: "no password on stdin"},
		{name: "EmptyLine", stdin: strings.NewReader("\nnext\n"), wantErr: "no password on stdin"},
		{name: "ReadError", stdin: iotest.ErrReader(errors.New("broken pipe")), wantErr: "broken pipe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			got, err := readPassword(tc.stdin, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("readPassword = %q, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("readPassword = %q, %v; want %q", got, err, tc.want)
			}
			if stderr.Len() != 0 {
				t.Errorf("readPassword prompted on a non-terminal: %q", stderr.String())
			}
		})
	}
}

func TestCourseCreate(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	if _, _, err := runCLI(t, "a long enough password\n", "user", "create", "--username", "olga", "--database-url", url, "--log-level", "warn"); err != nil {
		t.Fatal(err)
	}
	base := []string{"course", "create", "--database-url", url, "--log-level", "warn", "--host", "learn.example.org"}
	stdout, _, err := runCLI(t, "", append(base, "--owner", "olga", "--slug", "intro-go", "--title", "Intro to Go", "--tags", "go, Beginners")...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "@intro-go@learn.example.org") || !strings.Contains(stdout, "https://learn.example.org/courses/intro-go") {
		t.Errorf("stdout %q does not give the course's handle and IRI", stdout)
	}
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tags []string
	var owner string
	if err := conn.QueryRow(ctx, `SELECT c.tags, m.actor_iri FROM courses c JOIN course_members m ON m.course_id = c.id AND m.role = 'owner' WHERE c.slug = 'intro-go'`).Scan(&tags, &owner); err != nil {
		t.Fatal(err)
	}
	if strings.Join(tags, ",") != "go,beginners" || owner != "https://learn.example.org/users/olga" {
		t.Errorf("tags %q, owner %q", tags, owner)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--owner", "olga", "--slug", "intro-go", "--title", "Again"}, "taken"},
		{[]string{"--owner", "olga", "--slug", "olga", "--title", "Name of a user"}, "taken"},
		{[]string{"--owner", "nobody", "--slug", "x", "--title", "X"}, "not found"},
		{[]string{"--owner", "olga", "--slug", "Bad Slug!", "--title", "X"}, "slug"},
		{[]string{"--owner", "olga", "--slug", "y", "--title", "Y", "--licence", "proprietary"}, "licence"},
		{[]string{"--owner", "olga", "--slug", "z"}, "required"},
	} {
		if _, _, err := runCLI(t, "", append(base, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("course create %q: error %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM courses`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d courses after one good and several refused creates (%v)", n, err)
	}
}
