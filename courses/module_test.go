package courses_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

const testBase = "https://learn.example"

func iriOf(u courses.User) string { return testBase + "/users/" + u.Username }

func authorOf(u courses.User) courses.Author {
	return courses.Author{IRI: iriOf(u), Name: u.Username}
}

// newCourse makes a course owned by a new user, and returns both.
func newCourse(t *testing.T, b bundle, slug string) (courses.Course, courses.User) {
	t.Helper()
	owner := mustCreate(t, b, courses.NewUser{Username: slug + "_owner", Password: "correct horse battery"})
	c, err := inTx(t, b, func(tx pgx.Tx) (courses.Course, error) {
		return b.store.CreateCourse(b.ctx, tx, owner, iriOf(owner), courses.CourseDraft{Slug: slug, Title: "Course " + slug, Summary: "About *" + slug + "*"})
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, owner
}

func addModule(t *testing.T, b bundle, c courses.Course, a courses.Author, d courses.ModuleDraft) courses.Module {
	t.Helper()
	m, err := inTx(t, b, func(tx pgx.Tx) (courses.Module, error) { return b.store.AddModule(b.ctx, tx, c.ID, a, d) })
	if err != nil {
		t.Fatalf("add module %q: %v", d.Title, err)
	}
	return m
}

func editModule(t *testing.T, b bundle, id int64, a courses.Author, base int, d courses.ModuleDraft) (courses.Module, error) {
	t.Helper()
	return inTx(t, b, func(tx pgx.Tx) (courses.Module, error) { return b.store.EditModule(b.ctx, tx, id, a, base, d) })
}

func TestModuleRevisions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, owner := newCourse(t, b, "revs")
	olga := authorOf(owner)
	m := addModule(t, b, c, olga, courses.ModuleDraft{Title: "Types", Summary: "Every value has a type.", Body: "Line one\n", EstimatedMinutes: 30,
		Links: []courses.Link{{URL: "https://go.dev/tour", Title: "Tour"}}})
	if m.Revision != 1 || m.Number != 1 {
		t.Fatalf("new module at revision %d, number %d", m.Revision, m.Number)
	}
	m2, err := editModule(t, b, m.ID, olga, 1, courses.ModuleDraft{Title: "Types", Summary: "Every value has a type.", Body: "Line one\nLine two\n", EstimatedMinutes: 30,
		Links: []courses.Link{{URL: "https://go.dev/tour", Title: "Tour"}}})
	if err != nil || m2.Revision != 2 {
		t.Fatalf("edit: revision %d, %v", m2.Revision, err)
	}
	// An edit that changes nothing is no revision.
	if same, err := editModule(t, b, m.ID, olga, 2, m2.ModuleDraft); err != nil || same.Revision != 2 {
		t.Fatalf("empty edit: revision %d, %v", same.Revision, err)
	}

	// A moderator edits from revision 2; the owner, still on revision 1,
	// is refused with the current revision named, and nothing changes.
	mod := mustCreate(t, b, courses.NewUser{Username: "mod", Password: "correct horse battery"})
	if _, err := b.store.Enroll(b.ctx, b.pool, c, courses.Member{ActorIRI: iriOf(mod), UserID: mod.ID, Via: "local"}); err != nil {
		t.Fatal(err)
	}
	if err := b.store.SetRole(b.ctx, b.pool, c.ID, iriOf(mod), courses.RoleModerator, iriOf(owner)); err != nil {
		t.Fatal(err)
	}
	m3, err := editModule(t, b, m.ID, authorOf(mod), 2, courses.ModuleDraft{Title: "Types and values", Body: "Line one\nLine two\n"})
	if err != nil || m3.Revision != 3 {
		t.Fatalf("moderator's edit: %d, %v", m3.Revision, err)
	}
	stale := courses.ModuleDraft{Title: "Types", Body: "Line one, reworded\n"}
	_, conflict := editModule(t, b, m.ID, olga, 1, stale)
	err = conflict
	var ce *courses.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, courses.ErrConflict) || ce.Current != 3 || ce.Base != 1 || !strings.Contains(err.Error(), "revision 3") {
		t.Fatalf("stale edit: %v, want a conflict naming revision 3", err)
	}
	cur, err := b.store.ModuleOf(b.ctx, b.pool, c.ID, m.ID)
	if err != nil || cur.Revision != 3 || cur.Title != "Types and values" {
		t.Fatalf("after the refused edit: revision %d %q (%v)", cur.Revision, cur.Title, err)
	}
	if n := count(t, b, `SELECT count(*) FROM module_revisions WHERE module_id = $1`, m.ID); n != 3 {
		t.Fatalf("%d revisions after a refused edit, want 3", n)
	}
	// The refused text is kept for its author.
	if _, err := b.store.RecordConflict(b.ctx, b.pool, olga.IRI, stale, conflict); err != nil {
		t.Fatal(err)
	}
	refused, err := b.store.RefusedEdits(b.ctx, b.pool, m.ID, olga.IRI)
	if err != nil || len(refused) != 1 || refused[0].Body != stale.Body || refused[0].Current != 3 {
		t.Fatalf("refused edits: %+v, %v", refused, err)
	}

	// Reordering is a revision too, but it does not conflict with a text
	// edit made before it.
	other := addModule(t, b, c, olga, courses.ModuleDraft{Title: "Functions"})
	if _, err := inTx(t, b, func(tx pgx.Tx) ([]courses.Module, error) { return b.store.MoveModule(b.ctx, tx, other.ID, olga, -1) }); err != nil {
		t.Fatal(err)
	}
	mods, err := b.store.Modules(b.ctx, b.pool, c.ID)
	if err != nil || len(mods) != 2 || mods[0].ID != other.ID || mods[0].Number != 1 || mods[1].Number != 2 {
		t.Fatalf("after moving: %+v, %v", mods, err)
	}
	m5, err := editModule(t, b, m.ID, authorOf(mod), 3, courses.ModuleDraft{Title: "Types and values", Body: "Line one\nLine two\nLine three\n"})
	if err != nil || m5.Revision != 5 || m5.Number != 2 {
		t.Fatalf("edit based on revision 3 after a move (revision 4): %d, number %d, %v", m5.Revision, m5.Number, err)
	}

	// Restoring revision 1 makes revision 6 with revision 1's content.
	m6, err := inTx(t, b, func(tx pgx.Tx) (courses.Module, error) { return b.store.RestoreRevision(b.ctx, tx, m.ID, olga, 1, 5) })
	if err != nil || m6.Revision != 6 || m6.Body != "Line one\n" || m6.Title != "Types" || m6.EstimatedMinutes != 30 || len(m6.Links) != 1 {
		t.Fatalf("restore: %+v, %v", m6, err)
	}
	revs, err := b.store.Revisions(b.ctx, b.pool, m.ID)
	if err != nil || len(revs) != 6 {
		t.Fatalf("%d revisions, %v", len(revs), err)
	}
	wantChanges := []string{"created", "edited body", "edited title, summary, estimated time, links", "moved", "edited body", "restored revision 1"}
	for i, r := range revs {
		if r.Change != wantChanges[i] || r.Number != i+1 {
			t.Errorf("revision %d: %q, want %q", r.Number, r.Change, wantChanges[i])
		}
		if r.Author.Server != testBase {
			t.Errorf("revision %d from server %q, want %q", r.Number, r.Author.Server, testBase)
		}
	}
	authors, err := b.store.ModuleAuthors(b.ctx, b.pool, m.ID)
	if err != nil || len(authors) != 2 || authors[0].IRI != olga.IRI || authors[1].IRI != iriOf(mod) {
		t.Fatalf("authors %+v, %v", authors, err)
	}

	// A learner may not edit; nothing changes.
	learner := mustCreate(t, b, courses.NewUser{Username: "lea", Password: "correct horse battery"})
	if _, err := b.store.Enroll(b.ctx, b.pool, c, courses.Member{ActorIRI: iriOf(learner), UserID: learner.ID, Via: "local"}); err != nil {
		t.Fatal(err)
	}
	if _, err := editModule(t, b, m.ID, authorOf(learner), 6, courses.ModuleDraft{Title: "Mine now"}); !errors.Is(err, courses.ErrForbidden) {
		t.Fatalf("learner's edit: %v, want ErrForbidden", err)
	}
	if _, err := inTx(t, b, func(tx pgx.Tx) (courses.Module, error) {
		return b.store.AddModule(b.ctx, tx, c.ID, authorOf(learner), courses.ModuleDraft{Title: "Spam"})
	}); !errors.Is(err, courses.ErrForbidden) {
		t.Fatalf("learner's add: %v, want ErrForbidden", err)
	}
	if n := count(t, b, `SELECT count(*) FROM module_revisions WHERE author_iri = $1`, iriOf(learner)); n != 0 {
		t.Fatalf("%d revisions by the learner", n)
	}

	// Progress: the learner marks a module done.
	if err := b.store.MarkDone(b.ctx, b.pool, c.ID, m.ID, iriOf(learner), true); err != nil {
		t.Fatal(err)
	}
	p, err := b.store.ProgressOf(b.ctx, b.pool, c.ID, iriOf(learner))
	if err != nil || p.Done != 1 || p.Total != 2 || p.Percent() != 50 || !p.DoneModules[m.ID] {
		t.Fatalf("progress %+v, %v", p, err)
	}
	if err := b.store.MarkDone(b.ctx, b.pool, c.ID, m.ID, "https://elsewhere.example/users/x", true); !errors.Is(err, courses.ErrForbidden) {
		t.Fatalf("a non-member marking done: %v", err)
	}
	if _, err := b.store.ProgressSummary(b.ctx, b.pool, c.ID, iriOf(learner)); !errors.Is(err, courses.ErrForbidden) {
		t.Fatalf("a learner reading the summary: %v", err)
	}
	sum, err := b.store.ProgressSummary(b.ctx, b.pool, c.ID, iriOf(owner))
	if err != nil || len(sum) != 3 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
	for _, s := range sum {
		want := 0
		if s.ActorIRI == iriOf(learner) {
			want = 1
		}
		if s.Done != want || s.Total != 2 {
			t.Errorf("%s: %d of %d done, want %d of 2", s.ActorIRI, s.Done, s.Total, want)
		}
	}

	// Retiring takes the module out of the syllabus and out of progress;
	// it can no longer be edited.
	if _, err := inTx(t, b, func(tx pgx.Tx) (courses.Module, error) { return b.store.RetireModule(b.ctx, tx, m.ID, olga) }); err != nil {
		t.Fatal(err)
	}
	if _, err := editModule(t, b, m.ID, olga, 7, courses.ModuleDraft{Title: "Back"}); !errors.Is(err, courses.ErrRetired) {
		t.Fatalf("editing a retired module: %v", err)
	}
	if mods, _ := b.store.Modules(b.ctx, b.pool, c.ID); len(mods) != 1 {
		t.Fatalf("%d live modules after retiring one, want 1", len(mods))
	}
	if p, _ := b.store.ProgressOf(b.ctx, b.pool, c.ID, iriOf(learner)); p.Done != 0 || p.Total != 1 {
		t.Fatalf("progress after retiring: %+v", p)
	}
}

func TestModuleValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, owner := newCourse(t, b, "valid")
	for _, tc := range []struct {
		name  string
		d     courses.ModuleDraft
		field string
	}{
		{"NoTitle", courses.ModuleDraft{Title: "  "}, "title"},
		{"LongTitle", courses.ModuleDraft{Title: strings.Repeat("x", 201)}, "title"},
		{"LongBody", courses.ModuleDraft{Title: "x", Body: strings.Repeat("x", courses.MaxModuleBodyLen+1)}, "body"},
		{"NegativeTime", courses.ModuleDraft{Title: "x", EstimatedMinutes: -1}, "minutes"},
		{"ScriptLink", courses.ModuleDraft{Title: "x", Links: []courses.Link{{URL: "javascript:alert(1)"}}}, "links"},
		{"RelativeAttachment", courses.ModuleDraft{Title: "x", Attachments: []courses.Attachment{{URL: "/etc/passwd"}}}, "attachments"},
		{"BadMediaType", courses.ModuleDraft{Title: "x", Attachments: []courses.Attachment{{URL: "https://x.example/a.pdf", MediaType: "pdf"}}}, "attachments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := inTx(t, b, func(tx pgx.Tx) (courses.Module, error) {
				return b.store.AddModule(b.ctx, tx, c.ID, authorOf(owner), tc.d)
			})
			var ve *courses.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("add %s: %v, want a validation error on %s", tc.name, err, tc.field)
			}
		})
	}
	if n := count(t, b, `SELECT count(*) FROM modules WHERE course_id = $1`, c.ID); n != 0 {
		t.Fatalf("%d modules after refused adds", n)
	}
}

func TestEditConflictsRule(t *testing.T) {
	t.Parallel()
	d := func(body string) courses.ModuleDraft { return courses.ModuleDraft{Title: "T", Body: body} }
	for _, tc := range []struct {
		name          string
		base, current courses.Revision
		want          bool
	}{
		{"SameRevision", courses.Revision{Number: 3, ModuleDraft: d("a")}, courses.Revision{Number: 3, ModuleDraft: d("a")}, false},
		{"TextChanged", courses.Revision{Number: 2, ModuleDraft: d("a")}, courses.Revision{Number: 3, ModuleDraft: d("b")}, true},
		{"OnlyMoved", courses.Revision{Number: 2, ModuleDraft: d("a"), Position: 1}, courses.Revision{Number: 3, ModuleDraft: d("a"), Position: 2}, false},
	} {
		if got := courses.EditConflicts(tc.base, tc.current); got != tc.want {
			t.Errorf("%s: EditConflicts = %v, want %v", tc.name, got, tc.want)
		}
	}
}
