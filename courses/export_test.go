package courses_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// archiveEntry is one file of a tar archive, for building hostile ones.
type archiveEntry struct {
	name string
	body []byte
	flag byte // tar.TypeReg when 0
	size int64
}

func pack(t *testing.T, entries []archiveEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.flag != 0 {
			hdr.Typeflag = e.flag
		}
		if hdr.Typeflag == tar.TypeSymlink {
			hdr.Linkname, hdr.Size = "/etc/passwd", 0
		}
		if hdr.Typeflag == tar.TypeDir {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func unpack(t *testing.T, archive []byte) []archiveEntry {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []archiveEntry
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, archiveEntry{name: hdr.Name, body: body})
	}
}

// exampleCourse makes a course with history worth exporting: two
// authors, an edit, a move and a retired module.
func exampleCourse(t *testing.T, b bundle) (courses.Course, string) {
	t.Helper()
	c, owner := newCourse(t, b, "portable")
	olga := authorOf(owner)
	remote := courses.Author{IRI: "https://other.example/users/bob", Name: "Bob"}
	if _, err := b.store.Enroll(b.ctx, b.pool, c, courses.Member{ActorIRI: remote.IRI, Via: "join"}); err != nil {
		t.Fatal(err)
	}
	if err := b.store.SetRole(b.ctx, b.pool, c.ID, remote.IRI, courses.RoleModerator, olga.IRI); err != nil {
		t.Fatal(err)
	}
	m1 := addModule(t, b, c, olga, courses.ModuleDraft{Title: "Types", Body: "Every value has a **type**.\n\n```html\n<script>shown as code</script>\n```\n",
		Summary: "Types", EstimatedMinutes: 20, Links: []courses.Link{{URL: "https://go.dev/ref/spec", Title: "Spec"}},
		Attachments: []courses.Attachment{{URL: "https://files.example/types.pdf", MediaType: "application/pdf", Name: "Slides"}}})
	if _, err := editModule(t, b, m1.ID, remote, 1, courses.ModuleDraft{Title: "Types", Body: "Every value has a type.", Summary: "Types"}); err != nil {
		t.Fatal(err)
	}
	m2 := addModule(t, b, c, olga, courses.ModuleDraft{Title: "Functions", Body: "func f() {}"})
	addModule(t, b, c, remote, courses.ModuleDraft{Title: "Old stuff"})
	if _, err := inTx(t, b, func(tx pgx.Tx) ([]courses.Module, error) { return b.store.MoveModule(b.ctx, tx, m2.ID, olga, -1) }); err != nil {
		t.Fatal(err)
	}
	mods, _ := b.store.AllModules(b.ctx, b.pool, c.ID)
	if _, err := inTx(t, b, func(tx pgx.Tx) (courses.Module, error) { return b.store.RetireModule(b.ctx, tx, mods[2].ID, olga) }); err != nil {
		t.Fatal(err)
	}
	return c, testBase + "/courses/" + c.Slug
}

func export(t *testing.T, b bundle, c courses.Course, iri string) []byte {
	t.Helper()
	a, err := b.store.BuildArchive(b.ctx, b.pool, c, iri)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := courses.WriteArchive(&buf, a); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// importArchive reads an archive and imports it for owner in one
// transaction, as the CLI and the web page do.
func importArchive(t *testing.T, b bundle, owner courses.User, archive []byte, slug string) (courses.Course, error) {
	t.Helper()
	a, err := courses.ReadArchive(bytes.NewReader(archive))
	if err != nil {
		return courses.Course{}, err
	}
	return inTx(t, b, func(tx pgx.Tx) (courses.Course, error) {
		return b.store.ImportCourse(b.ctx, tx, owner, iriOf(owner), a, slug)
	})
}

// content is an archive without what differs between two exports of the
// same content: when, and from which course.
func content(t *testing.T, archive []byte) string {
	t.Helper()
	a, err := courses.ReadArchive(bytes.NewReader(archive))
	if err != nil {
		t.Fatalf("read own export: %v", err)
	}
	a.Manifest.Source, a.Manifest.Exported = "", time.Time{}
	body, err := json.MarshalIndent(struct {
		M courses.Manifest
		A []courses.ArchivedModule
	}{a.Manifest, a.Modules}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, iri := exampleCourse(t, b)
	first := export(t, b, c, iri)

	// Into another instance's database, under the same slug.
	other := setup(t)
	owner := mustCreate(t, other, courses.NewUser{Username: "importer", Password: "correct horse battery"})
	imported, err := importArchive(t, other, owner, first, "")
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	second := export(t, other, imported, testBase+"/courses/"+imported.Slug)
	if a, b := content(t, first), content(t, second); a != b {
		t.Fatalf("export → import → export changed the content:\nfirst:\n%s\nsecond:\n%s", a, b)
	}
	a, _ := courses.ReadArchive(bytes.NewReader(second))
	if a.Manifest.Origin.IRI != iri || a.Manifest.Origin.Title != c.Title {
		t.Errorf("the copy credits %+v, want the original %s", a.Manifest.Origin, iri)
	}
	if len(a.Modules) != 3 || len(a.Modules[0].Revisions) != 2 || !a.Modules[2].Revisions[len(a.Modules[2].Revisions)-1].Retired {
		t.Errorf("modules after the round trip: %+v", a.Modules)
	}
	var names []string
	for _, au := range a.Manifest.Authors {
		names = append(names, au.IRI)
	}
	if want := []string{iriOf(courses.User{Username: "portable_owner"}), "https://other.example/users/bob"}; !reflect.DeepEqual(names, want) {
		t.Errorf("authors %v, want %v", names, want)
	}
	mods, err := other.store.Modules(other.ctx, other.pool, imported.ID)
	if err != nil || len(mods) != 2 || mods[0].Title != "Functions" || mods[1].Body != "Every value has a type." {
		t.Fatalf("imported syllabus %+v, %v", mods, err)
	}
	// The imported modules go on: an edit makes their next revision (Types
	// went through created, edited, moved).
	if m, err := editModule(t, other, mods[1].ID, authorOf(owner), 0, courses.ModuleDraft{Title: "Types", Body: "More."}); err != nil || m.Revision != 4 {
		t.Fatalf("editing an imported module: %d, %v", m.Revision, err)
	}

	// The same slug again is taken, and the failed import leaves nothing.
	before := count(t, other, `SELECT count(*) FROM modules`)
	if _, err := importArchive(t, other, owner, first, ""); !errors.Is(err, courses.ErrTaken) {
		t.Fatalf("second import under the same slug: %v, want ErrTaken", err)
	}
	if n := count(t, other, `SELECT count(*) FROM modules`); n != before {
		t.Fatalf("%d modules after a failed import, want %d", n, before)
	}
}

func TestImportRefusesHostileArchives(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, iri := exampleCourse(t, b)
	good := unpack(t, export(t, b, c, iri))
	owner := mustCreate(t, b, courses.NewUser{Username: "victim", Password: "correct horse battery"})

	// with returns the good archive's entries changed by fn.
	with := func(fn func([]archiveEntry) []archiveEntry) []byte {
		es := make([]archiveEntry, len(good))
		for i, e := range good {
			es[i] = archiveEntry{name: e.name, body: append([]byte(nil), e.body...)}
		}
		return pack(t, fn(es))
	}
	// editJSON changes one file's JSON.
	editJSON := func(name string, fn func(map[string]any)) []byte {
		return with(func(es []archiveEntry) []archiveEntry {
			for i := range es {
				if es[i].name == name {
					var v map[string]any
					if err := json.Unmarshal(es[i].body, &v); err != nil {
						t.Fatal(err)
					}
					fn(v)
					es[i].body, _ = json.Marshal(v)
				}
			}
			return es
		})
	}
	revision := func(v map[string]any) map[string]any { return v["revisions"].([]any)[0].(map[string]any) }
	for _, tc := range []struct {
		name    string
		archive []byte
		want    string
		nd      bool
	}{
		{"NotGzip", []byte("PK\x03\x04 a zip file"), "not a gzip file", false},
		{"WrongTypeModules", editJSON("colearn-course.json", func(v map[string]any) { v["modules"] = "three" }), "cannot unmarshal", false},
		{"WrongTypeMinutes", editJSON("modules/0001.json", func(v map[string]any) { revision(v)["estimatedMinutes"] = "twenty" }), "cannot unmarshal", false},
		{"UnknownField", editJSON("colearn-course.json", func(v map[string]any) { v["owner_password"] = "x" }), "unknown field", false},
		{"ParentPath", with(func(es []archiveEntry) []archiveEntry {
			return append(es, archiveEntry{name: "../../etc/cron.d/evil", body: []byte("* * * * * root sh")})
		}), "plain relative path", false},
		{"AbsolutePath", with(func(es []archiveEntry) []archiveEntry {
			return append(es, archiveEntry{name: "/etc/passwd", body: []byte("root::0:0")})
		}), "plain relative path", false},
		{"DotDotInModules", with(func(es []archiveEntry) []archiveEntry {
			es[1].name = "modules/../colearn-course.json"
			return es
		}), "plain relative path", false},
		{"Symlink", with(func(es []archiveEntry) []archiveEntry {
			return append(es, archiveEntry{name: "modules/0004.json", flag: tar.TypeSymlink})
		}), "not a regular file", false},
		{"UnexpectedFile", with(func(es []archiveEntry) []archiveEntry {
			return append(es, archiveEntry{name: "run.sh", body: []byte("#!/bin/sh")})
		}), "unexpected file", false},
		{"Duplicate", with(func(es []archiveEntry) []archiveEntry { return append(es, es[1]) }), "appears twice", false},
		{"Oversized", with(func(es []archiveEntry) []archiveEntry {
			es[1].body = bytes.Repeat([]byte(" "), courses.MaxArchiveEntryBytes+1)
			return es
		}), "larger than", false},
		{"MissingModule", with(func(es []archiveEntry) []archiveEntry { return append(es[:1], es[2:]...) }), "announces 3 modules", false},
		{"RevisionGap", editJSON("modules/0001.json", func(v map[string]any) { revision(v)["number"] = 2 }), "numbered", false},
		{"ScriptInMarkdown", editJSON("modules/0001.json", func(v map[string]any) { revision(v)["body"] = "Hi <script>alert(1)</script>" }), "script", false},
		{"ScriptLinkInMarkdown", editJSON("modules/0002.json", func(v map[string]any) { revision(v)["body"] = "[click](javascript:alert(1))" }), "script", false},
		{"EventHandlerInMarkdown", editJSON("modules/0001.json", func(v map[string]any) { revision(v)["summary"] = `<img src=x onerror="alert(1)">` }), "script", false},
		{"ScriptInCourseSummary", editJSON("colearn-course.json", func(v map[string]any) {
			v["course"].(map[string]any)["summary"] = "<iframe src=https://evil.example></iframe>"
		}), "script", false},
		{"NoDerivatives", editJSON("colearn-course.json", func(v map[string]any) { v["licence"] = "CC-BY-ND-4.0" }), "does not allow adapted copies", true},
		{"NoDerivativesNC", editJSON("colearn-course.json", func(v map[string]any) { v["licence"] = "CC-BY-NC-ND-4.0" }), "does not allow adapted copies", true},
		{"UnknownLicence", editJSON("colearn-course.json", func(v map[string]any) { v["licence"] = "All-Rights-Reserved" }), "licence", false},
		{"BadAuthorIRI", editJSON("modules/0001.json", func(v map[string]any) { revision(v)["author"] = map[string]any{"iri": "javascript:x"} }), "author", false},
		{"WrongFormat", editJSON("colearn-course.json", func(v map[string]any) { v["format"] = "moodle" }), "format", false},
		{"NULInModuleTitle", editJSON("modules/0001.json", func(v map[string]any) { revision(v)["title"] = "Ty\x00pes" }), "revisions[0].title holds a NUL character", false},
		{"NULInAuthorName", editJSON("colearn-course.json", func(v map[string]any) {
			v["authors"].([]any)[0].(map[string]any)["name"] = "Ol\x00ga"
		}), "authors[0].name holds a NUL character", false},
		{"NotUTF8", with(func(es []archiveEntry) []archiveEntry {
			es[1].body = bytes.Replace(es[1].body, []byte(`"title": "`), []byte("\"title\": \"\xff"), 1)
			return es
		}), "not UTF-8 text", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := [3]int{count(t, b, `SELECT count(*) FROM courses`), count(t, b, `SELECT count(*) FROM modules`), count(t, b, `SELECT count(*) FROM handles`)}
			_, err := importArchive(t, b, owner, tc.archive, "copy")
			if !errors.Is(err, courses.ErrBadArchive) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("import: %v, want an invalid-archive error mentioning %q", err, tc.want)
			}
			if tc.nd != errors.Is(err, courses.ErrNoDerivatives) {
				t.Errorf("ErrNoDerivatives = %v, want %v (%v)", !tc.nd, tc.nd, err)
			}
			after := [3]int{count(t, b, `SELECT count(*) FROM courses`), count(t, b, `SELECT count(*) FROM modules`), count(t, b, `SELECT count(*) FROM handles`)}
			if before != after {
				t.Fatalf("courses, modules, handles went from %v to %v after a refused import", before, after)
			}
		})
	}
	// The good archive itself imports: the refusals above are the archive's.
	if _, err := importArchive(t, b, owner, pack(t, good), "copy"); err != nil {
		t.Fatalf("importing the untouched archive: %v", err)
	}
}
