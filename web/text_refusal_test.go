package web_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestImportRefusesTextPostgreSQLNeverStores: an uploaded course archive
// whose JSON holds a NUL character (the escape \u0000) or bytes that are
// not UTF-8 is refused with 422 naming the file and the field, and creates
// nothing. A NUL used to reach the database (500); bytes that are not
// UTF-8 used to be imported as U+FFFD.
func TestImportRefusesTextPostgreSQLNeverStores(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.newCourse(ann, "go", "Go basics", url.Values{"summary": {"Learn Go together."}})
	if r := b.post(ann, "/courses/go/modules", url.Values{"title": {"Types"}, "summary": {"Values"},
		"body": {"Every value has a type."}, "links": {"https://go.dev/tour A tour of Go"}}); r.status != http.StatusSeeOther {
		t.Fatalf("add module: %d\n%s", r.status, r.body)
	}
	arch := b.get(b.client(), "/courses/go/export")
	if arch.status != http.StatusOK {
		t.Fatalf("export: %d", arch.status)
	}
	for i, c := range []struct{ name, old, new, want string }{
		{"CourseTitle", "Go basics", `Go\u0000basics`, `colearn-course.json: course.title holds a NUL character`},
		{"CourseSummary", "Learn Go together.", `Learn\u0000Go`, `colearn-course.json: course.summary holds a NUL character`},
		{"ModuleBody", "Every value has a type.", `Every\u0000value`, `modules/0001.json: revisions[0].body holds a NUL character`},
		{"LinkTitle", "A tour of Go", `A tour\u0000of Go`, `modules/0001.json: revisions[0].links[0].title holds a NUL character`},
		{"ModuleSummaryNotUTF8", `"Values"`, "\"Val\xffues\"", "modules/0001.json: not UTF-8 text"},
		{"CourseTitleNotUTF8", "Go basics", "Go\xe9basics", "colearn-course.json: not UTF-8 text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := b.count(`SELECT (SELECT count(*) FROM courses) + (SELECT count(*) FROM modules) + (SELECT count(*) FROM handles)`)
			r := b.upload(ann, replaceInArchive(t, []byte(arch.body), c.old, c.new), fmt.Sprintf("copy%d", i))
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("import: %d, want 422\n%s", r.status, r.body)
			}
			mustContain(t, response{body: html.UnescapeString(r.body)}, `id="import-error"`, c.want, "Nothing was imported")
			if after := b.count(`SELECT (SELECT count(*) FROM courses) + (SELECT count(*) FROM modules) + (SELECT count(*) FROM handles)`); after != before {
				t.Fatalf("courses, modules and handles went from %d to %d rows after a refused import", before, after)
			}
		})
	}
	// The archive untouched imports: the refusals are the text's.
	if r := b.upload(ann, []byte(arch.body), "copy"); r.status != http.StatusSeeOther || r.location != "/courses/copy" {
		t.Fatalf("import of the export itself: %d %q\n%s", r.status, r.location, r.body)
	}
}

// TestVerifyFormNamesTextPostgreSQLNeverStores: a pasted credential with a
// NUL character is a 400 that says so, not the 413 "too large" it used to
// be; a credential past the limit is still a 413.
func TestVerifyFormNamesTextPostgreSQLNeverStores(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.post(b.client(), "/verify", url.Values{"credential": {"{\"id\": \"a\x00b\"}"}})
	if r.status != http.StatusBadRequest {
		t.Fatalf("NUL in the credential: %d, want 400\n%s", r.status, r.body)
	}
	mustContain(t, response{body: html.UnescapeString(r.body)}, `the field "credential" holds a NUL character or is not UTF-8`)
	if r := b.post(b.client(), "/verify", url.Values{"credential": {strings.Repeat("x", 300<<10)}}); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized credential: %d, want 413", r.status)
	}
}

// replaceInArchive returns the gzipped tar archive with old replaced by
// new in its files' bytes; old must occur.
func replaceInArchive(t *testing.T, archive []byte, old, new string) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	found := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		found = found || bytes.Contains(body, []byte(old))
		body = bytes.ReplaceAll(body, []byte(old), []byte(new))
		hdr.Size = int64(len(body))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("%q is not in the archive", old)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
