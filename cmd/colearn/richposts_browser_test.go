package main

// A content warning in a real headless Chromium: written in the post form,
// the post shows collapsed behind it, and opens without any script.

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/colearn/colearn/courses"
)

func TestBrowserContentWarning(t *testing.T) {
	t.Parallel()
	tab := browserContext(t, 90*time.Second)
	ti := startInstance(t, testInstanceOptions{})
	ctx := t.Context()
	base := "http://" + ti.addr
	ti.createUser(t, "ann")
	if _, err := ti.actions.CreateCourse(ctx, ti.user(t, "ann"), courses.CourseDraft{Slug: "cw", Title: "Warnings"}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(tab,
		browserSignIn(base, "ann"),
		chromedp.Navigate(base+"/courses/cw"),
		chromedp.WaitVisible(chromedp.CSS(`#post-form textarea[name="content"]`)),
		chromedp.SendKeys(chromedp.CSS(`#post-form textarea[name="content"]`), "The answer is 42, see #answers"),
		chromedp.SendKeys(chromedp.CSS(`#post-summary`), "Week 3 answers"),
		chromedp.Click(chromedp.CSS(`#post-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#discussion details.content-warning > summary`)),
	)
	if err != nil {
		t.Fatalf("ann posts with a content warning: %v", err)
	}
	if s := browserText(t, tab, "#discussion details.content-warning > summary"); s != "Week 3 answers" {
		t.Errorf("the warning reads %q", s)
	}
	visible := func() bool {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Evaluate[bool](
			`document.querySelector('#discussion details.content-warning .content').checkVisibility()`))
		if err != nil {
			t.Fatalf("visibility of the content: %v", err)
		}
		return v
	}
	if visible() {
		t.Fatal("the post's content shows before the reader opens the warning")
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS(`#discussion details.content-warning > summary`))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the post's content shown once the reader opens the warning", 10*time.Second, func() (bool, error) {
		return visible(), nil
	})
	if s := browserText(t, tab, "#discussion details.content-warning a.hashtag"); s != "#answers" {
		t.Errorf("the hashtag link reads %q", s)
	}
}
