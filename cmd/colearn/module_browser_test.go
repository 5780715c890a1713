package main

// The syllabus in a real headless Chromium: an author adds and edits a
// module in the web page, reads its history and a diff, and restores an
// earlier revision; a learner marks the module done and sees their
// progress.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/colearn/colearn/courses"
)

func TestBrowserSyllabus(t *testing.T) {
	t.Parallel()
	tab := browserContext(t, 90*time.Second)
	ti := startInstance(t, testInstanceOptions{})
	base := "http://" + ti.addr

	if err := chromedp.Do(tab, browserSignUp(base, "ann")); err != nil {
		t.Fatalf("ann signs up: %v", err)
	}
	if _, err := ti.actions.CreateCourse(t.Context(), ti.user(t, "ann"), courses.CourseDraft{Slug: "web-go", Title: "Go on the web"}); err != nil {
		t.Fatal(err)
	}
	// ann adds a module, opens it and edits it.
	err := chromedp.Do(tab,
		chromedp.Navigate(base+"/courses/web-go"),
		chromedp.Click(chromedp.CSS(`#add-module summary`)),
		chromedp.SendKeys(chromedp.CSS(`#add-module-form input[name="title"]`), "Types"),
		chromedp.SendKeys(chromedp.CSS(`#add-module-form input[name="summary"]`), "Values and their types"),
		chromedp.SendKeys(chromedp.CSS(`#add-module-form textarea[name="body"]`), "Every value has a type."),
		chromedp.Click(chromedp.CSS(`#add-module-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#module-1 h3 a`)),
		chromedp.Click(chromedp.CSS(`#module-1 h3 a`)),
		chromedp.WaitVisible(chromedp.CSS(`form#module-edit`)),
		chromedp.SetValue(chromedp.CSS(`form#module-edit textarea[name="body"]`), "Every value has a type.\nEvery type has a zero value."),
		chromedp.Click(chromedp.CSS(`#module-save`)),
		chromedp.WaitVisible(chromedp.CSS(`#revision-2`)),
	)
	if err != nil {
		t.Fatalf("ann adds and edits a module: %v", err)
	}
	if body := browserText(t, tab, "#module-body"); !strings.Contains(body, "Every type has a zero value.") {
		t.Fatalf("the module page shows %q after the edit", body)
	}
	if change := browserText(t, tab, "#revision-2 .change"); change != "edited body" {
		t.Errorf("revision 2 says %q, want \"edited body\"", change)
	}
	// The diff between revisions 1 and 2, then restoring revision 1.
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`#revision-2 a.diff-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#diff pre.diff`)),
	)
	if err != nil {
		t.Fatalf("ann opens the diff: %v", err)
	}
	if added := browserText(t, tab, "#diff .diff-add"); !strings.Contains(added, "Every type has a zero value.") {
		t.Fatalf("the diff's added line is %q", added)
	}
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`#revision-1 button.restore-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#revision-3`)),
	)
	if err != nil {
		t.Fatalf("ann restores revision 1: %v", err)
	}
	if change := browserText(t, tab, "#revision-3 .change"); change != "restored revision 1" {
		t.Errorf("revision 3 says %q", change)
	}
	if body := browserText(t, tab, "#module-body"); strings.Contains(body, "zero value") {
		t.Errorf("after restoring revision 1 the module still shows %q", body)
	}
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)),
	)
	if err != nil {
		t.Fatalf("ann signs out: %v", err)
	}

	// ben enrolls, marks the module done and sees his progress.
	err = chromedp.Do(tab,
		browserSignUp(base, "ben"),
		chromedp.Navigate(base+"/courses/web-go"),
		chromedp.Click(chromedp.CSS(`button#enroll-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#my-progress`)),
	)
	if err != nil {
		t.Fatalf("ben enrolls: %v", err)
	}
	if p := browserText(t, tab, "#my-progress"); p != "0 of 1 modules done (0%)" {
		t.Errorf("progress before: %q", p)
	}
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`#module-1 h3 a`)),
		chromedp.WaitVisible(chromedp.CSS(`#done-button`)),
		chromedp.Click(chromedp.CSS(`#done-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#done-form p.notice`)),
	)
	if err != nil {
		t.Fatalf("ben marks the module done: %v", err)
	}
	if p := browserText(t, tab, "#my-progress"); p != "1 of 1 modules done (100%)" {
		t.Errorf("progress after: %q", p)
	}
	if editor, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.querySelector('#module-edit') !== null`)); err != nil || editor {
		t.Errorf("a learner sees the editor (%v)", err)
	}
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.TempDir(), "module.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the module page: %s (%d bytes)", path, len(shot))
}
