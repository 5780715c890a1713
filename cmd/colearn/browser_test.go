package main

// The course pages in a real headless Chromium (Debian's chromium package),
// against a real instance: sign-up, course creation, enrollment and a post,
// through the same forms, cookies and cross-origin checks a person meets.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserChromium is where Debian's chromium package installs the browser.
const browserChromium = "/usr/bin/chromium"

// browserContext starts a fresh headless Chromium for the test, with its
// own profile folder, and returns a tab's context bounded by timeout. A
// missing browser fails the test: these pages must not go untested.
func browserContext(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(browserChromium); err != nil {
		t.Fatalf("Chromium is required for the browser tests and was not found at %s (%v): install Debian's chromium package (apt-get install chromium)", browserChromium, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	var log lockedBuffer
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(browserChromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&log),
	)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		if out := log.String(); t.Failed() && out != "" {
			t.Logf("chromium output:\n%s", out)
		}
	})
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v", browserChromium, err)
	}
	return tab
}

// browserSignUp fills in the sign-up form and waits for the greeting.
func browserSignUp(base, username string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/signup"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse battery staple"),
		chromedp.Click(chromedp.CSS(`form[action="/signup"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.greeting`)),
	)
}

// browserText returns the text of the first element matching the CSS
// selector sel, failing the test if there is none.
func browserText(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	text, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return text
}

func TestBrowserCourseFlow(t *testing.T) {
	t.Parallel()
	tab := browserContext(t, 60*time.Second)
	ti := startInstance(t, testInstanceOptions{})
	base := "http://" + ti.addr
	const postText = "Hello from the browser, fellow gophers"

	// ann signs up and creates a course.
	err := chromedp.Do(tab,
		browserSignUp(base, "ann"),
		chromedp.Click(chromedp.CSS(`a#courses-link`)),
		chromedp.WaitVisible(chromedp.CSS(`a#new-course-link`)),
		chromedp.Click(chromedp.CSS(`a#new-course-link`)),
		chromedp.WaitVisible(chromedp.CSS(`form#new-course`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="slug"]`), "browser-go"),
		chromedp.SendKeys(chromedp.CSS(`input[name="title"]`), "Go in the browser"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="summary"]`), "We learn **Go** by doing."),
		chromedp.SendKeys(chromedp.CSS(`input[name="tags"]`), "go, web"),
		chromedp.Click(chromedp.CSS(`button#create-course`)),
		chromedp.WaitVisible(chromedp.CSS(`code.course-handle`)),
	)
	if err != nil {
		t.Fatalf("ann creates a course: %v", err)
	}
	if h1, handle := browserText(t, tab, "h1"), browserText(t, tab, "code.course-handle"); h1 != "Go in the browser" || handle != "@browser-go@"+ti.addr {
		t.Fatalf("course page shows %q, %q", h1, handle)
	}
	if summary := browserText(t, tab, ".summary-html strong"); summary != "Go" {
		t.Errorf("summary's Markdown not rendered: <strong> holds %q", summary)
	}
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)),
	)
	if err != nil {
		t.Fatalf("ann signs out: %v", err)
	}

	// ben signs up, enrolls and posts.
	err = chromedp.Do(tab,
		browserSignUp(base, "ben"),
		chromedp.Navigate(base+"/courses"),
		chromedp.Click(chromedp.CSS(`a[href="/courses/browser-go"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button#enroll-button`)),
		chromedp.Click(chromedp.CSS(`button#enroll-button`)),
		chromedp.WaitVisible(chromedp.CSS(`form#post-form textarea[name="content"]`)),
		chromedp.SendKeys(chromedp.CSS(`form#post-form textarea[name="content"]`), postText),
		chromedp.Click(chromedp.CSS(`button#post-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#discussion article.post`)),
	)
	if err != nil {
		t.Fatalf("ben enrolls and posts: %v", err)
	}
	if d := browserText(t, tab, "#discussion"); !strings.Contains(d, postText) || !strings.Contains(d, "@ben@"+ti.addr) {
		t.Fatalf("discussion lacks ben's post:\n%s", d)
	}
	if n := browserText(t, tab, "p.member-count"); n != "2 members" {
		t.Errorf("member count %q, want 2 members", n)
	}
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100)) // quality 100 gives a PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.TempDir(), "course.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the course page: %s (%d bytes)", path, len(shot))
}
