package main

// The moderation pages in a real headless Chromium: a learner reports a
// post from the course page, an admin removes it from the queue, blocks
// and unblocks a server on the admin page, and reads the moderation log.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/colearn/colearn/courses"
)

// browserSignIn signs username in (password as createUser sets it) and
// waits for the start page.
func browserSignIn(base, username string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signin"] input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`form[action="/signin"] input[name="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`form[action="/signin"] input[name="password"]`), "correct horse battery staple"),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)),
	)
}

func TestBrowserModeration(t *testing.T) {
	t.Parallel()
	tab := browserContext(t, 90*time.Second)
	ti := startInstance(t, testInstanceOptions{})
	ctx := t.Context()
	base := "http://" + ti.addr
	for _, name := range []string{"ann", "ben", "cleo"} {
		ti.createUser(t, name)
	}
	if _, err := ti.pool.Exec(ctx, `UPDATE users SET is_admin = true WHERE username = 'ann'`); err != nil {
		t.Fatal(err)
	}
	ann, ben, cleo := ti.user(t, "ann"), ti.user(t, "ben"), ti.user(t, "cleo")
	course, err := ti.actions.CreateCourse(ctx, ann, courses.CourseDraft{Slug: "moderated", Title: "Moderated"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []courses.User{ben, cleo} {
		if _, err := ti.actions.Enroll(ctx, u, course); err != nil {
			t.Fatal(err)
		}
	}
	spam, err := ti.actions.Post(ctx, ben, ti.urls.Course(course.Slug), "Cheap pills, click here", "")
	if err != nil {
		t.Fatal(err)
	}

	// cleo reports ben's post from the course page.
	err = chromedp.Do(tab,
		browserSignIn(base, "cleo"),
		chromedp.Navigate(base+"/courses/moderated"),
		chromedp.WaitVisible(chromedp.CSS(`#discussion a.report-link`)),
		chromedp.Click(chromedp.CSS(`#discussion a.report-link`)),
		chromedp.WaitVisible(chromedp.CSS(`form.report-form textarea[name="comment"]`)),
	)
	if err != nil {
		t.Fatalf("cleo opens the report form: %v", err)
	}
	if q := browserText(t, tab, "blockquote.reported"); q != "Cheap pills, click here" {
		t.Errorf("the report form shows the post as %q", q)
	}
	err = chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS(`form.report-form textarea[name="comment"]`), "This is spam"),
		chromedp.Click(chromedp.CSS(`form.report-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice[role="status"]`)),
	)
	if err != nil {
		t.Fatalf("cleo reports: %v", err)
	}
	if got := browserText(t, tab, `p.notice[role="status"]`); !strings.Contains(got, "in the moderators' queue") {
		t.Errorf("after reporting: %q", got)
	}
	// cleo moderates nothing: her queue is empty.
	err = chromedp.Do(tab, chromedp.Navigate(base+"/moderation/reports"), chromedp.WaitVisible(chromedp.CSS(`p.empty`)))
	if err != nil {
		t.Fatalf("cleo's queue: %v", err)
	}

	// ann (admin) removes the post from the queue.
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)),
		browserSignIn(base, "ann"),
		chromedp.Navigate(base+"/admin/settings"),
		chromedp.Click(chromedp.CSS(`p.admin-links a[href="/moderation/reports"]`)),
		chromedp.WaitVisible(chromedp.CSS(`article.report`)),
	)
	if err != nil {
		t.Fatalf("ann opens the queue: %v", err)
	}
	if r := browserText(t, tab, "article.report"); !strings.Contains(r, "This is spam") || !strings.Contains(r, "Cheap pills") || !strings.Contains(r, ti.urls.User("ben")) {
		t.Fatalf("the queue shows:\n%s", r)
	}
	if q := browserText(t, tab, "article.report blockquote.reported"); q != "Cheap pills, click here" {
		t.Errorf("the reported post shows as %q, want its text (HTML rendered, not escaped)", q)
	}
	browserScreenshot(t, tab, "colearn-reports.png")
	err = chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS(`form.resolve input[name="reason"]`), "spam"),
		chromedp.Click(chromedp.CSS(`form.resolve button[value="remove-post"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice[role="status"]`)),
	)
	if err != nil {
		t.Fatalf("ann removes the post: %v", err)
	}
	if got := browserText(t, tab, `p.notice[role="status"]`); !strings.Contains(got, "post removed: spam") {
		t.Errorf("after removing: %q", got)
	}
	if p, err := ti.post(ctx, spam.IRI); err != nil || !p.Deleted {
		t.Fatalf("the post after removal from the queue: %+v, %v", p, err)
	}

	// ann blocks a server, is told off for a bad one, and unblocks it.
	err = chromedp.Do(tab,
		chromedp.Navigate(base+"/admin/domains"),
		chromedp.WaitVisible(chromedp.CSS(`form.block-domain`)),
		chromedp.SendKeys(chromedp.CSS(`form.block-domain input[name="host"]`), "Spam.Example"),
		chromedp.SendKeys(chromedp.CSS(`form.block-domain input[name="reason"]`), "spam farm"),
		chromedp.Click(chromedp.CSS(`form.block-domain button`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-host="spam.example"]`)),
	)
	if err != nil {
		t.Fatalf("ann blocks spam.example: %v", err)
	}
	if row := browserText(t, tab, `tr[data-host="spam.example"]`); !strings.Contains(row, "spam farm") || !strings.Contains(row, "ann") {
		t.Errorf("block row %q", row)
	}
	browserScreenshot(t, tab, "colearn-admin-domains.png")
	err = chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS(`form.block-domain input[name="host"]`), "not a host!"),
		chromedp.Click(chromedp.CSS(`form.block-domain button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.error[role="alert"]`)),
	)
	if err != nil {
		t.Fatalf("ann blocks a bad host: %v", err)
	}
	if msg := browserText(t, tab, `p.error`); !strings.Contains(msg, "not a host name") {
		t.Errorf("bad host message %q", msg)
	}
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`tr[data-host="spam.example"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice[role="status"]`)),
	)
	if err != nil {
		t.Fatalf("ann unblocks: %v", err)
	}
	if blocks, _ := ti.courses.DomainBlocks(ctx, ti.pool); len(blocks) != 0 {
		t.Errorf("blocks after unblocking: %+v", blocks)
	}

	// The moderation log shows all of it: who, what, on what, why.
	err = chromedp.Do(tab, chromedp.Navigate(base+"/admin/log"), chromedp.WaitVisible(chromedp.CSS(`table.modlog`)))
	if err != nil {
		t.Fatalf("ann opens the log: %v", err)
	}
	for _, want := range []struct{ action, text string }{
		{courses.ModPostRemove, spam.IRI},
		{courses.ModDomainBlock, "spam farm"},
		{courses.ModDomainUnblock, "spam.example"},
		{courses.ModReportResolve, "post removed"},
	} {
		if row := browserText(t, tab, `tr[data-action="`+want.action+`"]`); !strings.Contains(row, "ann") || !strings.Contains(row, want.text) {
			t.Errorf("log row for %s: %q", want.action, row)
		}
	}

	// Visitors are sent to sign in.
	status, _ := ti.get(t, "/admin/domains", "")
	if status != 303 {
		t.Errorf("anonymous GET /admin/domains: %d, want a redirect to sign in", status)
	}
}

// browserScreenshot saves the page as name in the test's temporary folder
// (a person can look at it) and logs where.
func browserScreenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100)) // quality 100 gives a PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(os.TempDir(), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
