package main

// An independent verifier: Digital Bazaar's reference libraries (interop/vc)
// check credentials colearn issued, their revocation, and refuse a tampered
// one.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
)

const vcVerifierDir = "../../interop/vc"

type dbResult struct {
	Verified       bool   `json:"verified"`
	StatusVerified *bool  `json:"statusVerified"`
	StatusError    string `json:"statusError"`
	Error          string `json:"error"`
}

// dbVerify runs interop/vc/verify.mjs on a credential with the documents it
// may load.
func dbVerify(t *testing.T, cred []byte, documents map[string]json.RawMessage) dbResult {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (%v): the credential interop test needs Node.js 20; then npm ci --prefix interop/vc", err)
	}
	dir, _ := filepath.Abs(vcVerifierDir)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@digitalbazaar", "vc", "package.json")); err != nil {
		t.Fatalf("the verifier's packages are not installed (%v): run npm ci --prefix interop/vc --no-audit --no-fund", err)
	}
	in, _ := json.Marshal(map[string]any{"credential": json.RawMessage(cred), "documents": documents})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "verify.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.Output() // exit 1 means "not verified"; the JSON says why
	var r dbResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("verifier output %q: %v\nstderr: %s", out, err, stderr.String())
	}
	return r
}

func TestDigitalBazaarVerifiesColearnCredentials(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	a.createUser(t, "olga")
	a.createUser(t, "lena")
	olga, lena := a.user(t, "olga"), a.user(t, "lena")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "intro-go", Title: "Intro to Go"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.actions.Enroll(ctx, lena, course); err != nil {
		t.Fatal(err)
	}
	ach, err := a.actions.CreateAchievement(ctx, olga, course, courses.AchievementDraft{
		Name: "Go basics", Description: "Writes small Go programs.", Criteria: "Finished *every* exercise.",
		ImageURL: "https://img.example/go.png", Tags: []string{"go", "beginner"},
		Alignments: []courses.Alignment{{TargetName: "Programming", TargetURL: "https://framework.example/prog"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	aw, err := a.actions.AwardBadge(ctx, olga, course, ach, "lena", "https://code.example/lena/server")
	if err != nil {
		t.Fatal(err)
	}
	credPath := "/credentials/" + aw.PublicID
	_, cred := a.get(t, credPath, "application/vc+ld+json")
	courseIRI := a.urls.Course(course.Slug)
	listURL := courseIRI + "/status/revocation"
	docs := func() map[string]json.RawMessage {
		_, actor := a.get(t, "/courses/intro-go", "application/activity+json")
		_, list := a.get(t, strings.TrimPrefix(listURL, "http://"+a.addr), "application/vc+ld+json")
		return map[string]json.RawMessage{courseIRI: actor, listURL: list}
	}

	if r := dbVerify(t, cred, docs()); !r.Verified || r.StatusVerified == nil || !*r.StatusVerified {
		t.Fatalf("Digital Bazaar's verifier refuses colearn's credential: %+v\n%s", r, cred)
	}

	// A tampered credential is refused by it too.
	tampered := bytes.Replace(cred, []byte(`"Go basics"`), []byte(`"Go expert"`), 1)
	if r := dbVerify(t, tampered, docs()); r.Verified {
		t.Fatalf("the independent verifier accepts a tampered credential: %+v", r)
	}

	if _, err := a.actions.RevokeBadge(ctx, olga, aw.PublicID); err != nil {
		t.Fatal(err)
	}
	if r := dbVerify(t, cred, docs()); r.Verified || r.StatusError != "revoked" {
		t.Fatalf("after revocation: %+v", r)
	}
	// The local learner's backpack shows it revoked too.
	if items := a.backpack(t, "lena"); len(items) != 1 || items[0].RevokedAt == nil {
		t.Fatalf("lena's backpack after revocation: %+v", items)
	}
}
