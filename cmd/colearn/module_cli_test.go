package main

// The authors' command line: module list/show/add/edit and course
// export/import, against a real database, as someone writing in their
// editor would use them.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/internal/pgtest"
)

func TestModuleAndArchiveCommands(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	db := []string{"--database-url", url, "--log-level", "warn", "--host", "learn.example.org"}
	cli := func(args ...string) (string, error) {
		t.Helper()
		stdout, _, err := runCLI(t, "", append(args, db...)...)
		return stdout, err
	}
	for _, u := range []string{"olga", "ivan"} {
		if _, _, err := runCLI(t, "a long enough password\n", "user", "create", "--username", u, "--database-url", url, "--log-level", "warn"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli("course", "create", "--owner", "olga", "--slug", "intro-go", "--title", "Intro to Go"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	out, err := cli("module", "add", "--as", "olga", "--course", "intro-go", "--title", "Types", "--minutes", "25",
		"--file", write("types.md", "Every value has a **type**.\n"))
	if err != nil || !strings.Contains(out, "revision 1") || !strings.Contains(out, "https://learn.example.org/courses/intro-go/modules/") {
		t.Fatalf("module add: %q, %v", out, err)
	}
	var id string
	if err := conn.QueryRow(ctx, `SELECT id::text FROM modules`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	// The change is stored for delivery, as the web page's would be.
	if n := count(`SELECT count(*) FROM outbox_activities WHERE type = 'Create' AND actor_iri = 'https://learn.example.org/courses/intro-go'
		AND body LIKE '%"Article"%'`); n != 1 {
		t.Fatalf("%d Create(Article) activities stored after module add, want 1", n)
	}
	if _, err := cli("module", "add", "--as", "ivan", "--course", "intro-go", "--title", "Spam", "--file", write("spam.md", "x")); err == nil ||
		!strings.Contains(err.Error(), "not allowed") {
		t.Fatalf("module add by a non-author: %v", err)
	}

	if out, err = cli("module", "edit", "--as", "olga", "--course", "intro-go", "--module", id, "--base", "1",
		"--file", write("types2.md", "Every value has a type; every type has a zero value.\n")); err != nil || !strings.Contains(out, "revision 2") {
		t.Fatalf("module edit: %q, %v", out, err)
	}
	// Still based on revision 1: refused, naming revision 2, nothing saved
	// over it, and the refused text kept.
	_, err = cli("module", "edit", "--as", "olga", "--course", "intro-go", "--module", id, "--base", "1", "--file", write("stale.md", "My stale text\n"))
	if err == nil || !strings.Contains(err.Error(), "at revision 2") || !strings.Contains(err.Error(), "module show") {
		t.Fatalf("stale edit: %v, want a refusal naming revision 2", err)
	}
	if n := count(`SELECT count(*) FROM module_revisions`); n != 2 {
		t.Fatalf("%d revisions after a refused edit, want 2", n)
	}
	if n := count(`SELECT count(*) FROM module_conflicts WHERE body LIKE 'My stale text%' AND current = 2`); n != 1 {
		t.Fatalf("the refused text was not kept (%d rows)", n)
	}
	if out, err = cli("module", "show", "--course", "intro-go", "--module", id, "--revision", "1"); err != nil || !strings.Contains(out, "Every value has a **type**.") {
		t.Fatalf("module show --revision 1: %q, %v", out, err)
	}
	if out, err = cli("module", "list", "--course", "intro-go"); err != nil || !regexpMatch(`(?m)^`+id+`\s+1\s+2\s+25\s+Types$`, out) {
		t.Fatalf("module list:\n%s%v", out, err)
	}
	if _, err = cli("module", "list", "--course", "https://other.example/courses/intro-go"); err == nil || !strings.Contains(err.Error(), "by its handle") {
		t.Fatalf("a remote course's URL: %v", err)
	}

	// Export, import as a copy, export again: the same content.
	stdout, _, err := runCLI(t, "", append([]string{"course", "export", "intro-go"}, db...)...)
	if err != nil {
		t.Fatal(err)
	}
	archive := write("intro-go.tar.gz", stdout)
	if out, err = cli("course", "import", "--owner", "ivan", "--slug", "go-copy", archive); err != nil ||
		!strings.Contains(out, "@go-copy@learn.example.org") || !strings.Contains(out, "from https://learn.example.org/courses/intro-go") {
		t.Fatalf("course import: %q, %v", out, err)
	}
	if n := count(`SELECT count(*) FROM courses WHERE slug = 'go-copy' AND origin_iri = 'https://learn.example.org/courses/intro-go'`); n != 1 {
		t.Fatal("the imported course does not credit its origin")
	}
	if n := count(`SELECT count(*) FROM actor_keys WHERE owner = 'go-copy'`); n != 1 {
		t.Fatal("the imported course has no actor keys")
	}

	// An archive whose licence forbids derivatives is refused; nothing
	// changes.
	ndArchive := rewriteLicence(t, archive, "CC-BY-NC-ND-4.0")
	before := count(`SELECT count(*) FROM courses`)
	if _, err = cli("course", "import", "--owner", "ivan", "--slug", "nd-copy", ndArchive); err == nil || !strings.Contains(err.Error(), "does not allow adapted copies") {
		t.Fatalf("import of an ND archive: %v", err)
	}
	if n := count(`SELECT count(*) FROM courses`); n != before {
		t.Fatalf("%d courses after a refused import, want %d", n, before)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// rewriteLicence writes a copy of the archive at path whose manifest
// carries licence, and returns the copy's path.
func rewriteLicence(t *testing.T, path, licence string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var buf bytes.Buffer
	ogz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(ogz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if hdr.Name == "colearn-course.json" {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			m["licence"] = licence
			body, _ = json.Marshal(m)
			hdr.Size = int64(len(body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	ogz.Close()
	out := path + "." + licence + ".tar.gz"
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
