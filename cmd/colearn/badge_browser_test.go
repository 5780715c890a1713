package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/colearn/colearn/courses"
)

// A facilitator awards a badge on the course's badges page; the learner
// sees it on their profile, verified, and downloads it.
func TestBrowserBadgeFlow(t *testing.T) {
	t.Parallel()
	tab := browserContext(t, 90*time.Second)
	ti := startInstance(t, testInstanceOptions{})
	base := "http://" + ti.addr
	ctx := t.Context()
	ti.createUser(t, "ann")
	ti.createUser(t, "ben")
	ann, ben := ti.user(t, "ann"), ti.user(t, "ben")
	course, err := ti.actions.CreateCourse(ctx, ann, courses.CourseDraft{Slug: "browser-go", Title: "Go in the browser"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ti.actions.Enroll(ctx, ben, course); err != nil {
		t.Fatal(err)
	}
	if _, err := ti.actions.CreateAchievement(ctx, ann, course, courses.AchievementDraft{
		Name: "Browser gopher", Description: "Built a page in Go.", Criteria: "Shipped **one** page.",
	}); err != nil {
		t.Fatal(err)
	}

	err = chromedp.Do(tab,
		browserSignIn(base, "ann"),
		chromedp.Navigate(base+"/courses/browser-go"),
		chromedp.WaitVisible(chromedp.CSS(`#achievements .achievement-link`)),
		chromedp.Click(chromedp.CSS(`a#badges-link`)),
		chromedp.WaitVisible(chromedp.CSS(`form#award-form`)),
		chromedp.SendKeys(chromedp.CSS(`input#award-to`), "ben"),
		chromedp.SendKeys(chromedp.CSS(`textarea#award-evidence`), "Built the course page."),
		chromedp.Click(chromedp.CSS(`button#award-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`a#issued-link`)),
	)
	if err != nil {
		t.Fatalf("ann awards the badge: %v", err)
	}
	issued := browserText(t, tab, "a#issued-link")
	if !strings.HasPrefix(issued, base+"/credentials/") {
		t.Fatalf("issued link %q", issued)
	}
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)),
		browserSignIn(base, "ben"),
		chromedp.Navigate(base+"/@ben"),
		chromedp.WaitVisible(chromedp.CSS(`#backpack a.badge-link`)),
	)
	if err != nil {
		t.Fatalf("ben opens his profile: %v", err)
	}
	if name := browserText(t, tab, "#backpack a.badge-link"); name != "Browser gopher" {
		t.Fatalf("profile shows badge %q", name)
	}
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`#backpack a.badge-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#verdict`)),
	)
	if err != nil {
		t.Fatalf("ben opens the badge: %v", err)
	}
	if v := browserText(t, tab, "#verdict"); !strings.Contains(v, "Verified") {
		t.Fatalf("verdict %q; checks: %s", v, browserText(t, tab, "table.checks"))
	}
	// The download link saves the signed credential as a JSON file.
	dir := t.TempDir()
	progress := chromedp.Events(tab, browser.DownloadProgress)
	err = chromedp.Do(tab,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &[]bool{true}[0],
			})
			return err
		}),
		chromedp.Click(chromedp.CSS(`a#download`)),
	)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("download canceled")
		}
	}
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cred struct {
		ID                string   `json:"id"`
		Type              []string `json:"type"`
		CredentialSubject struct {
			ID string `json:"id"`
		} `json:"credentialSubject"`
		Proof struct {
			Cryptosuite string `json:"cryptosuite"`
		} `json:"proof"`
	}
	if err := json.Unmarshal(text, &cred); err != nil {
		t.Fatalf("downloaded %q: %v", text, err)
	}
	if cred.ID != issued || cred.CredentialSubject.ID != ti.urls.User("ben") || cred.Proof.Cryptosuite != "eddsa-rdfc-2022" {
		t.Fatalf("downloaded credential: %+v", cred)
	}
}
