package main

// Badges across three real instances: a course on A awards a badge to a
// learner on B; B verifies and keeps it; C verifies it through B's page and
// offline; A revokes it and B and C see it revoked.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/federation/credential"
)

// postJSON posts body to the instance and returns the status and answer.
func (ti *testInstance) postJSON(t *testing.T, path string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post("http://"+ti.addr+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (ti *testInstance) backpack(t *testing.T, user string) []courses.BackpackItem {
	t.Helper()
	items, err := ti.courses.Backpack(t.Context(), ti.pool, ti.user(t, user).ID)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func verifyReport(t *testing.T, body []byte) credential.Report {
	t.Helper()
	var r credential.Report
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("report %s: %v", body, err)
	}
	return r
}

func TestBadgesAcrossThreeInstances(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	b := startInstance(t, testInstanceOptions{})
	c := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a, b, c)
	a.createUser(t, "olga")
	b.createUser(t, "bob")
	b.createUser(t, "bea") // on B, not enrolled
	olga, bob := a.user(t, "olga"), b.user(t, "bob")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "intro-go", Title: "Intro to Go"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	if _, err := b.actions.JoinRemote(ctx, bob, "@intro-go@"+a.addr); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob enrolled", 15*time.Second, func() (bool, error) {
		return b.enrollmentState(ctx, "bob", courseIRI) == courses.StateAccepted, nil
	})

	// The achievement is created with the CLI on A's database, and listed.
	dbURL := a.pool.Config().ConnString()
	cli := func(args ...string) string {
		t.Helper()
		out, errOut, err := runCLI(t, "", append(args[:2:2], append([]string{"--database-url", dbURL, "--host", a.addr, "--dev", "--log-level", "warn"}, args[2:]...)...)...)
		if err != nil {
			t.Fatalf("colearn %s: %v\n%s", strings.Join(args, " "), err, errOut)
		}
		return strings.TrimSpace(out)
	}
	achURL := cli("achievement", "create", "--course", "intro-go", "--name", "Go basics", "--tags", "go,beginner", "--alignment", "Programming=https://framework.example/prog",
		"--description", "Writes small Go programs.", "--criteria", "Finished **every** exercise.", "--image", "http://"+a.addr+"/static/badge.png")
	if !strings.HasPrefix(achURL, courseIRI+"/achievements/") {
		t.Fatalf("achievement URL %q", achURL)
	}
	if list := cli("achievement", "list", "--course", "intro-go"); !strings.Contains(list, achURL+"\tGo basics") {
		t.Fatalf("achievement list: %q", list)
	}
	// The Achievement dereferences as Open Badges JSON and appears on the course page.
	status, body := a.get(t, strings.TrimPrefix(achURL, "http://"+a.addr), "application/ld+json")
	if status != 200 || !strings.Contains(string(body), `"Achievement"`) || !strings.Contains(string(body), `"Go basics"`) || !strings.Contains(string(body), `"targetUrl":"https://framework.example/prog"`) || !strings.Contains(string(body), `"beginner"`) {
		t.Fatalf("GET achievement: %d %s", status, body)
	}
	if _, page := a.get(t, "/courses/intro-go", "text/html"); !strings.Contains(string(page), achURL) {
		t.Fatal("the course page does not list the achievement")
	}

	// A learner who is not enrolled cannot be awarded; nothing is stored.
	if _, errOut, err := runCLI(t, "", "badge", "award", "--database-url", dbURL, "--host", a.addr, "--dev", "--log-level", "warn",
		"--course", "intro-go", "--achievement", achURL, "--to", b.handle("bea")); err == nil || !strings.Contains(err.Error(), "not an enrolled learner") {
		t.Fatalf("award to a non-member: %v %s", err, errOut)
	}
	if aws, _ := a.courses.Awards(ctx, a.pool, course.ID); len(aws) != 0 {
		t.Fatalf("a refused award was stored: %+v", aws)
	}

	credURL := cli("badge", "award", "--course", "intro-go", "--achievement", achURL, "--to", b.handle("bob"), "--evidence", "Wrote a web server.")
	if !strings.HasPrefix(credURL, "http://"+a.addr+"/credentials/") {
		t.Fatalf("credential URL %q", credURL)
	}

	// B verifies it and keeps it in bob's backpack; the profile shows it.
	var item courses.BackpackItem
	eventually(t, "the credential in bob's backpack on B", 20*time.Second, func() (bool, error) {
		items := b.backpack(t, "bob")
		if len(items) == 1 {
			item = items[0]
		}
		return len(items) == 1, nil
	})
	if item.CredentialID != credURL || item.Name != "Go basics" || item.IssuerIRI != courseIRI {
		t.Fatalf("kept %+v", item)
	}
	_, profile := b.get(t, "/@bob", "text/html")
	if !strings.Contains(string(profile), "Go basics") || strings.Contains(string(profile), "revoked-mark") {
		t.Fatalf("bob's profile does not show the badge:\n%s", profile)
	}
	itemPath := "/@bob/badges/" + itoa(item.ID)
	_, page := b.get(t, itemPath, "text/html")
	if !strings.Contains(string(page), "verdict-valid") {
		t.Fatalf("B's badge page does not verify it:\n%s", page)
	}

	// C verifies the JSON B serves, through C's own endpoint.
	status, downloaded := b.get(t, itemPath+"?download=1", "")
	if status != 200 || !bytes.Equal(downloaded, item.Credential) {
		t.Fatalf("download: %d", status)
	}
	_, rep := c.postJSON(t, "/credentials/verify", downloaded)
	if r := verifyReport(t, rep); !r.Valid || r.Subject != b.urls.User("bob") || r.IssuerID != courseIRI {
		t.Fatalf("C's verification: %s", rep)
	}
	// ... and offline, with the key taken from A's course actor once.
	_, actorDoc := a.get(t, "/courses/intro-go", "application/activity+json")
	var actor struct {
		AssertionMethod []json.RawMessage `json:"assertionMethod"`
	}
	json.Unmarshal(actorDoc, &actor)
	dir := t.TempDir()
	keyFile, credFile := filepath.Join(dir, "key.json"), filepath.Join(dir, "cred.json")
	os.WriteFile(keyFile, actor.AssertionMethod[0], 0o600)
	os.WriteFile(credFile, downloaded, 0o600)
	out, _, err := runCLI(t, "", "badge", "verify", "--offline", "--key", keyFile, credFile)
	// Offline, the status list cannot be fetched: every other check passes.
	if err == nil || !strings.Contains(out, "ok   proof") || !strings.Contains(out, "ok   issuer key") || !strings.Contains(err.Error(), "status") {
		t.Fatalf("offline verify: %v\n%s", err, out)
	}
	if out, _, err := runCLI(t, "", "badge", "verify", "--dev", "--key", keyFile, credFile); err != nil || !strings.HasSuffix(strings.TrimSpace(out), "valid") {
		t.Fatalf("verify with --key and the live status list: %v\n%s", err, out)
	}
	if out, _, err := runCLI(t, "", "badge", "verify", "--offline", credFile); err == nil || !strings.Contains(out, "FAIL issuer key") {
		t.Fatalf("offline verify without the key must fail on the key: %v\n%s", err, out)
	}

	// A revokes; B marks it revoked, and C's verification says so.
	if out := cli("badge", "revoke", credURL); !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %q", out)
	}
	eventually(t, "the badge revoked on B", 20*time.Second, func() (bool, error) {
		items := b.backpack(t, "bob")
		return len(items) == 1 && items[0].RevokedAt != nil, nil
	})
	_, profile = b.get(t, "/@bob", "text/html")
	if !strings.Contains(string(profile), "revoked-mark") {
		t.Fatal("bob's profile does not show the revocation")
	}
	if _, page := b.get(t, itemPath, "text/html"); !strings.Contains(string(page), "Revoked by the issuer") {
		t.Fatalf("B's badge page does not show the revocation:\n%s", page)
	}
	_, rep = c.postJSON(t, "/credentials/verify", downloaded)
	if r := verifyReport(t, rep); r.Valid || !r.Revoked || r.Failed().Name != credential.CheckStatus {
		t.Fatalf("C's verification after revocation: %s", rep)
	}
	if _, page := a.get(t, strings.TrimPrefix(credURL, "http://"+a.addr), "text/html"); !strings.Contains(string(page), "Revoked by the issuer") {
		t.Fatal("A's credential page does not show the revocation")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// deliverAs posts activity to inbox signed with owner's RSA key on ti, as
// that actor's server would, and waits until the receiver has applied it;
// it returns the error the receiver recorded.
func deliverAs(t *testing.T, from *testInstance, owner, actorIRI string, to *testInstance, activity map[string]any) string {
	t.Helper()
	kp, err := from.keys.Get(t.Context(), owner)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(activity)
	if err := from.client.Post(t.Context(), "http://"+to.addr+"/inbox", body, &federation.Signer{KeyID: federation.MainKey(actorIRI), Key: kp.RSA}); err != nil {
		t.Fatalf("deliver %s: %v", activity["id"], err)
	}
	var applyErr string
	eventually(t, "the receiver to apply "+activity["id"].(string), 20*time.Second, func() (bool, error) {
		var done bool
		err := to.pool.QueryRow(t.Context(), `SELECT processed_at IS NOT NULL, coalesce(error, '') FROM inbox_activities WHERE activity_id = $1`,
			activity["id"]).Scan(&done, &applyErr)
		if err == nil && !done {
			err = errors.New("not applied yet: " + applyErr)
		}
		return err == nil && done, err
	})
	return applyErr
}

// A receiving instance keeps only credentials that verify and that their
// issuer delivered.
func TestBadgeOfferRefusals(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	b := startInstance(t, testInstanceOptions{})
	a.createUser(t, "olga")
	b.createUser(t, "bob")
	olga, bob := a.user(t, "olga"), b.user(t, "bob")
	course, _ := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "intro-go", Title: "Intro to Go"})
	courseIRI := a.urls.Course(course.Slug)
	if _, err := b.actions.JoinRemote(ctx, bob, "@intro-go@"+a.addr); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob enrolled", 15*time.Second, func() (bool, error) {
		return b.enrollmentState(ctx, "bob", courseIRI) == courses.StateAccepted, nil
	})
	ach, err := a.actions.CreateAchievement(ctx, olga, course, courses.AchievementDraft{Name: "Go basics", Description: "d", Criteria: "c"})
	if err != nil {
		t.Fatal(err)
	}
	aw, err := a.actions.AwardBadge(ctx, olga, course, ach, b.handle("bob"), "")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the genuine credential kept", 20*time.Second, func() (bool, error) { return len(b.backpack(t, "bob")) == 1, nil })

	var genuine map[string]any
	json.Unmarshal(aw.Credential, &genuine)
	offer := func(actor string, cred map[string]any) map[string]any {
		return map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams", "id": actor + "#offer-" + federation.NewID(), "type": "Offer",
			"actor": actor, "object": cred, "target": b.urls.User("bob"), "to": []any{b.urls.User("bob")},
		}
	}
	// Tampered by the issuer's own server after signing (a new id, a better name).
	tampered := map[string]any{}
	json.Unmarshal(aw.Credential, &tampered)
	tampered["id"] = a.actions.CredentialIRI("forged")
	tampered["name"] = "Go expert"
	if e := deliverAs(t, a, "intro-go", courseIRI, b, offer(courseIRI, tampered)); !strings.Contains(e, "does not verify") {
		t.Fatalf("tampered credential: receiver recorded %q", e)
	}
	// Re-signed by someone else on the issuer's server (olga's own key).
	delete(genuine, "proof")
	genuine["id"] = a.actions.CredentialIRI("resigned")
	kp, _ := a.keys.Get(ctx, "olga")
	resigned, err := a.badges.Canon.AddProof(genuine, kp.Ed25519, credential.ProofOptions{VerificationMethod: federation.AssertionKey(a.urls.User("olga")), Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if e := deliverAs(t, a, "olga", a.urls.User("olga"), b, offer(a.urls.User("olga"), resigned)); !strings.Contains(e, "not by the issuer") {
		t.Fatalf("credential signed by another key: receiver recorded %q", e)
	}
	// The genuine credential delivered by another actor than its issuer.
	var again map[string]any
	json.Unmarshal(aw.Credential, &again)
	if e := deliverAs(t, a, "olga", a.urls.User("olga"), b, offer(a.urls.User("olga"), again)); !strings.Contains(e, "delivered by") {
		t.Fatalf("credential delivered by another actor: receiver recorded %q", e)
	}
	if items := b.backpack(t, "bob"); len(items) != 1 || items[0].CredentialID != a.actions.CredentialIRI(aw.PublicID) || items[0].Name != "Go basics" {
		t.Fatalf("backpack after refusals: %+v", items)
	}
}
