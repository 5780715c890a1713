package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// moduleID returns the id of the module titled title.
func (b *bundle) moduleID(title string) int64 {
	b.t.Helper()
	var id int64
	if err := b.pool.QueryRow(b.ctx, `SELECT id FROM modules WHERE title = $1`, title).Scan(&id); err != nil {
		b.t.Fatalf("module %q: %v", title, err)
	}
	return id
}

func TestWebModules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.newCourse(ann, "go", "Go", nil)
	r := b.post(ann, "/courses/go/modules", url.Values{"title": {"Types"}, "summary": {"Values and their types"}, "minutes": {"30"},
		"body": {"Every value has a type.\nLine two."}, "links": {"https://go.dev/tour A tour of Go"}})
	if r.status != http.StatusSeeOther || r.location != "/courses/go#module-1" {
		t.Fatalf("add: %d %q\n%s", r.status, r.location, r.body)
	}
	if r := b.post(ann, "/courses/go/modules", url.Values{"title": {"Bad"}, "minutes": {"soon"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad minutes: %d", r.status)
	}
	id := b.moduleID("Types")
	page := fmt.Sprintf("/courses/go/modules/%d", id)
	mustContain(t, b.get(b.client(), page), "1. <span id=\"module-title\">Types</span>", "Values and their types", "about 30 minutes",
		`href="https://go.dev/tour"`, "A tour of Go", `id="revision-1"`, "created")

	// Two edits from revision 1: the first wins, the second comes back with
	// 409, both texts, and the editor based on revision 2.
	edit := func(c *http.Client, base int, body string) response {
		return b.post(c, page+"/edit", url.Values{"base": {fmt.Sprint(base)}, "title": {"Types"}, "summary": {"Values and their types"},
			"minutes": {"30"}, "body": {body}, "links": {"https://go.dev/tour A tour of Go"}})
	}
	if r := edit(ann, 1, "Every value has a type.\nLine two, edited by ann."); r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", r.status, r.body)
	}
	r = edit(ann, 1, "Every value has a type.\nA stale line.")
	if r.status != http.StatusConflict {
		t.Fatalf("stale edit: %d, want 409", r.status)
	}
	mustContain(t, r, "revision 2", `id="conflict-mine"`, "A stale line.", `id="conflict-theirs"`, "Line two, edited by ann.",
		`name="base" value="2"`, `class="diff-add">+ A stale line.`)
	if n := b.count(`SELECT count(*) FROM module_revisions WHERE module_id = $1`, id); n != 2 {
		t.Fatalf("%d revisions after the refused edit, want 2", n)
	}
	mustContain(t, b.get(ann, page), "Your refused edits", "A stale line.")

	// History, diff and restore.
	r = b.get(b.client(), page+"?from=1&to=2")
	mustContain(t, r, `id="diff"`, `class="diff-del">- Line two.`, `class="diff-add">+ Line two, edited by ann.`)
	mustContain(t, b.get(b.client(), page+"?revision=1"), `id="old-revision"`, "Line two.")
	if r := b.get(b.client(), page+"?from=1&to=9"); r.status != http.StatusBadRequest {
		t.Fatalf("diff with a missing revision: %d", r.status)
	}
	if r := b.post(ann, page+"/restore", url.Values{"revision": {"1"}, "base": {"2"}}); r.status != http.StatusSeeOther {
		t.Fatalf("restore: %d\n%s", r.status, r.body)
	}
	mustContain(t, b.get(b.client(), page), `id="revision-3"`, "restored revision 1", "Line two.")

	// A learner may read and mark done, not edit; the facilitator sees
	// their progress.
	ben := b.signedIn("ben", false)
	if r := b.post(ben, page+"/done", url.Values{"done": {"1"}}); r.status != http.StatusForbidden {
		t.Fatalf("done before enrolling: %d", r.status)
	}
	b.post(ben, "/courses/go/enroll", url.Values{})
	if r := edit(ben, 3, "hijacked"); r.status != http.StatusForbidden {
		t.Fatalf("learner's edit: %d", r.status)
	}
	mustNotContain(t, b.get(ben, page), `id="module-edit"`)
	if r := b.post(ben, page+"/done", url.Values{"done": {"1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("done: %d\n%s", r.status, r.body)
	}
	mustContain(t, b.get(ben, page), "1 of 1 modules done (100%)", "Mark as not done")
	mustContain(t, b.get(ben, "/courses/go"), "1 of 1 modules done (100%)", "✓ done")
	if r := b.get(ben, "/courses/go/progress"); r.status != http.StatusForbidden {
		t.Fatalf("a learner's progress summary: %d", r.status)
	}
	r = b.get(ann, "/courses/go/progress")
	if !strings.Contains(r.body, "ben") || !strings.Contains(r.body, "1 of 1") {
		t.Fatalf("summary:\n%s", r.body)
	}

	// Export, then import the archive; a hostile upload is refused with
	// the reason and creates nothing.
	arch := b.get(b.client(), "/courses/go/export")
	if arch.status != http.StatusOK || arch.header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("export: %d %s", arch.status, arch.header.Get("Content-Type"))
	}
	if r := b.upload(ben, []byte(arch.body), "go-again"); r.status != http.StatusSeeOther || r.location != "/courses/go-again" {
		t.Fatalf("import: %d %q\n%s", r.status, r.location, r.body)
	}
	mustContain(t, b.get(ben, "/courses/go-again"), "Types")
	before := b.count(`SELECT count(*) FROM courses`)
	r = b.upload(ben, []byte("not an archive"), "evil")
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("hostile import: %d", r.status)
	}
	mustContain(t, r, `id="import-error"`, "not a gzip file", "Nothing was imported")
	if n := b.count(`SELECT count(*) FROM courses`); n != before {
		t.Fatalf("%d courses after a refused import, want %d", n, before)
	}

	// Make a copy: the course page's button, export and import in one.
	if r := b.post(ben, "/courses/go/copy", url.Values{"slug": {"go-fork"}}); r.status != http.StatusSeeOther || r.location != "/courses/go-fork" {
		t.Fatalf("copy: %d %q\n%s", r.status, r.location, r.body)
	}
	if n := b.count(`SELECT count(*) FROM courses WHERE slug = 'go-fork' AND origin_iri = $1`, b.urls.Course("go")); n != 1 {
		t.Fatal("the copy does not credit its origin")
	}
	if r := b.post(ben, "/courses/go/copy", url.Values{"slug": {"go-fork"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("copy under a taken handle: %d", r.status)
	}

	// Reordering: a second module moved up comes first.
	if r := b.post(ann, "/courses/go/modules", url.Values{"title": {"Basics"}, "body": {"Start here."}}); r.status != http.StatusSeeOther || r.location != "/courses/go#module-2" {
		t.Fatalf("second module: %d %q", r.status, r.location)
	}
	basics := b.moduleID("Basics")
	if r := b.post(ben, fmt.Sprintf("/courses/go/modules/%d/move", basics), url.Values{"direction": {"up"}}); r.status != http.StatusForbidden {
		t.Fatalf("a learner reordering: %d", r.status)
	}
	if r := b.post(ann, fmt.Sprintf("/courses/go/modules/%d/move", basics), url.Values{"direction": {"up"}}); r.status != http.StatusSeeOther {
		t.Fatalf("move up: %d\n%s", r.status, r.body)
	}
	course := b.get(b.client(), "/courses/go").body
	if i, j := strings.Index(course, "1. Basics"), strings.Index(course, "2. Types"); i < 0 || j < 0 || i > j {
		t.Fatalf("after moving Basics up the syllabus reads:\n%s", course)
	}
	if n := b.count(`SELECT count(*) FROM outbox_activities WHERE type = 'Update' AND body LIKE '%"position":1%' AND body LIKE '%Basics%'`); n != 1 {
		t.Fatalf("%d Updates give Basics its new place, want 1", n)
	}

	// Retiring takes it off the syllabus; its page says so and no longer
	// offers the editor.
	if r := b.post(ann, page+"/retire", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("retire: %d", r.status)
	}
	mustContain(t, b.get(ann, page), "Retired: ", "retired")
	mustNotContain(t, b.get(ann, page), `id="module-edit"`)
	mustNotContain(t, b.get(b.client(), "/courses/go"), "Types</a>")
	mustContain(t, b.get(b.client(), "/courses/go"), "1. Basics")
}
