package main

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/colearn/colearn/federation"
)

// A profile edit reaches the actor document at once, although actor
// documents are cached.
func TestProfileEditReachesActor(t *testing.T) {
	t.Parallel()
	a := startInstance(t, testInstanceOptions{})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) {
		t.Helper()
		resp, err := c.PostForm("http://"+a.addr+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
	}
	actor := func() (name, summary string) {
		t.Helper()
		status, body := a.get(t, "/users/ines", federation.ContentTypeActivity)
		if status != http.StatusOK {
			t.Fatalf("actor: %d", status)
		}
		var doc struct{ Name, Summary string }
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Name, doc.Summary
	}
	post("/signup", url.Values{"username": {"ines"}, "display_name": {"Ines"}, "password": {"a long enough password"}})
	if name, _ := actor(); name != "Ines" {
		t.Fatalf("name %q before the edit", name)
	}
	post("/settings/profile", url.Values{"display_name": {"Inês M"}, "summary": {"Learning *Go*"}})
	name, summary := actor()
	if name != "Inês M" || !strings.Contains(summary, "<em>Go</em>") {
		t.Fatalf("actor after the edit: name %q, summary %q", name, summary)
	}
}
