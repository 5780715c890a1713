package main

// Co-authoring across servers in a real headless Chromium, against two
// real instances: the owner on A invites an author on B in the co-authors
// page, B's author accepts on B's invitations page and edits a module from
// B's page of the remote syllabus; A's module page shows the new revision
// and its history credited to B's author; a learner on A marks it done. A
// concurrent edit from A and B: A's applies, B's is refused naming the
// current revision and B's page shows both texts, merged and sent again.
// After a revocation in A's page, B's next edit is refused.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/colearn/colearn/courses"
)

// browserTab opens a tab in a new browser context of root's Chromium: its
// own cookies, so people on instances that share 127.0.0.1 keep their
// sessions apart.
func browserTab(t *testing.T, root context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return tab
}

// browserValue returns the value of the form field matching sel.
func browserValue(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}

// browserHas reports whether an element matches sel on the current page.
func browserHas(t *testing.T, tab context.Context, sel string) bool {
	t.Helper()
	ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`) !== null`))
	if err != nil {
		t.Fatalf("look for %s: %v", sel, err)
	}
	return ok
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func TestBrowserCoauthoring(t *testing.T) {
	t.Parallel()
	root := browserContext(t, 240*time.Second)
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	b := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a, b)
	baseA, baseB := "http://"+a.addr, "http://"+b.addr
	olgaTab, bobTab, benTab := browserTab(t, root), browserTab(t, root), browserTab(t, root)

	if err := chromedp.Do(olgaTab, browserSignUp(baseA, "olga")); err != nil {
		t.Fatalf("olga signs up on A: %v", err)
	}
	if err := chromedp.Do(bobTab, browserSignUp(baseB, "bob")); err != nil {
		t.Fatalf("bob signs up on B: %v", err)
	}
	olga := a.user(t, "olga")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "together", Title: "Built together"})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := a.actions.AddModule(ctx, olga, course, courses.ModuleDraft{Title: "Types", Summary: "Values and their types", Body: "Every value has a type."})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI, bobIRI := a.urls.Course("together"), b.urls.User("bob")
	modulePageA := baseA + "/courses/together/modules/" + itoa(mod.ID)
	moduleOnA := func() courses.Module {
		t.Helper()
		m, err := a.courses.ModuleOf(ctx, a.pool, course.ID, mod.ID)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	// Olga invites bob from the co-authors page of her course.
	err = chromedp.Do(olgaTab,
		chromedp.Navigate(baseA+"/courses/together"),
		chromedp.Click(chromedp.CSS(`a#coauthors-link`)),
		chromedp.WaitVisible(chromedp.CSS(`form#invite-form`)),
		chromedp.SendKeys(chromedp.CSS(`#invite-form input[name="handle"]`), "@bob@"+b.addr),
		chromedp.SetValue(chromedp.CSS(`#invite-form select[name="role"]`), "author"),
		chromedp.Click(chromedp.CSS(`#invite-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#grants tr.grant`)),
	)
	if err != nil {
		t.Fatalf("olga invites bob: %v", err)
	}
	row := browserText(t, olgaTab, "#grants tr.grant")
	if who := browserText(t, olgaTab, "#grants .grantee"); who != "@bob@"+b.addr || !strings.Contains(row, "invited") || !strings.Contains(row, "@olga") {
		t.Fatalf("the grants table shows %q (grantee %q)", row, who)
	}

	// Bob sees the invitation in B's header and accepts it.
	eventually(t, "the invitation on B", 20*time.Second, func() (bool, error) {
		n, err := b.courses.PendingInvitations(ctx, b.pool, b.user(t, "bob").ID)
		return n == 1, err
	})
	err = chromedp.Do(bobTab,
		chromedp.Navigate(baseB+"/"),
		chromedp.WaitVisible(chromedp.CSS(`a#invitations-link`)),
	)
	if err != nil {
		t.Fatalf("bob opens B: %v", err)
	}
	if link := browserText(t, bobTab, "a#invitations-link"); link != "Invitations (1)" {
		t.Errorf("B's header links %q", link)
	}
	err = chromedp.Do(bobTab,
		chromedp.Click(chromedp.CSS(`a#invitations-link`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.invitation button.accept-button`)),
		chromedp.Click(chromedp.CSS(`tr.invitation button.accept-button`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.invitation.state-accepted`)),
	)
	if err != nil {
		t.Fatalf("bob accepts: %v", err)
	}
	eventually(t, "the grant confirmed on B", 20*time.Second, func() (bool, error) {
		_, err := b.courses.GrantIn(ctx, b.pool, b.user(t, "bob").ID, courseIRI)
		return err == nil, nil
	})
	err = chromedp.Do(olgaTab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#grants tr.grant.state-granted`)))
	if err != nil {
		t.Fatalf("A's grants table after the acceptance: %v", err)
	}

	// Bob edits the module from B's page of the remote syllabus: the form
	// holds the current text and revision.
	err = chromedp.Do(bobTab,
		chromedp.Navigate(baseB+"/invitations"),
		chromedp.WaitVisible(chromedp.CSS(`a.syllabus-link`)),
		chromedp.Click(chromedp.CSS(`a.syllabus-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#grant-role`)),
		chromedp.Click(chromedp.CSS(`#module-`+itoa(mod.ID)+` a.edit-link`)),
		chromedp.WaitVisible(chromedp.CSS(`form#module-edit`)),
	)
	if err != nil {
		t.Fatalf("bob opens the module on B: %v", err)
	}
	if body, base, summary := browserValue(t, bobTab, `#module-edit textarea[name="body"]`), browserValue(t, bobTab, `#module-edit input[name="base"]`),
		browserValue(t, bobTab, `#module-edit input[name="summary"]`); body != "Every value has a type." || base != "1" || summary != "Values and their types" {
		t.Fatalf("B's editor holds %q, base %q, summary %q", body, base, summary)
	}
	const bobLine = "Bob adds: every type has a zero value."
	err = chromedp.Do(bobTab,
		chromedp.SetValue(chromedp.CSS(`#module-edit textarea[name="body"]`), "Every value has a type.\n"+bobLine),
		chromedp.Click(chromedp.CSS(`#module-save`)),
		chromedp.WaitVisible(chromedp.CSS(`#changes li.remote-edit`)),
	)
	if err != nil {
		t.Fatalf("bob sends his edit: %v", err)
	}
	eventually(t, "bob's edit applied on A", 20*time.Second, func() (bool, error) {
		return moduleOnA().Revision == 2, nil
	})

	// A's module page shows revision 2 and its history credits bob on B.
	err = chromedp.Do(olgaTab, chromedp.Navigate(modulePageA), chromedp.WaitVisible(chromedp.CSS(`#revision-2`)))
	if err != nil {
		t.Fatalf("olga opens the module: %v", err)
	}
	if body := browserText(t, olgaTab, "#module-body"); !strings.Contains(body, bobLine) {
		t.Errorf("A's module page shows %q", body)
	}
	if who := browserText(t, olgaTab, "#revision-2"); !strings.Contains(who, "bob") || !strings.Contains(who, baseB) {
		t.Errorf("revision 2 is credited as %q, want bob on %s", who, baseB)
	}
	// B shows the applied revision, read from the course.
	eventually(t, "B's page of the change", 20*time.Second, func() (bool, error) {
		_, ok := b.remoteEdit(t, "bob", func(e courses.RemoteEdit) bool { return e.State == "applied" && e.ResultRevision == 2 })
		return ok, nil
	})
	err = chromedp.Do(bobTab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#changes .result-revision`)))
	if err != nil {
		t.Fatalf("bob reloads B's syllabus: %v", err)
	}
	if rev := browserText(t, bobTab, "#module-"+itoa(mod.ID)+" .revision"); rev != "2" {
		t.Errorf("B's syllabus shows revision %q", rev)
	}

	// A learner on A marks the module done and sees their progress.
	err = chromedp.Do(benTab,
		browserSignUp(baseA, "ben"),
		chromedp.Navigate(baseA+"/courses/together"),
		chromedp.Click(chromedp.CSS(`button#enroll-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#my-progress`)),
		chromedp.Navigate(modulePageA),
		chromedp.WaitVisible(chromedp.CSS(`#done-button`)),
		chromedp.Click(chromedp.CSS(`#done-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#done-form p.notice`)),
	)
	if err != nil {
		t.Fatalf("ben marks the module done: %v", err)
	}
	if p := browserText(t, benTab, "#my-progress"); p != "1 of 1 modules done (100%)" {
		t.Errorf("ben's progress: %q", p)
	}

	// Both open the editor at revision 2; olga saves first, bob's edit is
	// refused naming revision 3, and B shows both texts.
	err = chromedp.Do(olgaTab, chromedp.Navigate(modulePageA), chromedp.WaitVisible(chromedp.CSS(`form#module-edit`)))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(bobTab, chromedp.Click(chromedp.CSS(`#module-`+itoa(mod.ID)+` a.edit-link`)), chromedp.WaitVisible(chromedp.CSS(`form#module-edit`)))
	if err != nil {
		t.Fatal(err)
	}
	if base := browserValue(t, bobTab, `#module-edit input[name="base"]`); base != "2" {
		t.Fatalf("B's editor is based on revision %q", base)
	}
	const olgaText, bobText = "Olga's merge: types, zero values and conversions.", "Bob's second thought: zero values matter."
	err = chromedp.Do(olgaTab,
		chromedp.SetValue(chromedp.CSS(`#module-edit textarea[name="body"]`), olgaText),
		chromedp.Click(chromedp.CSS(`#module-save`)),
		chromedp.WaitVisible(chromedp.CSS(`#revision-3`)),
	)
	if err != nil {
		t.Fatalf("olga saves revision 3: %v", err)
	}
	err = chromedp.Do(bobTab,
		chromedp.SetValue(chromedp.CSS(`#module-edit textarea[name="body"]`), bobText),
		chromedp.Click(chromedp.CSS(`#module-save`)),
		chromedp.WaitVisible(chromedp.CSS(`#changes li.remote-edit`)),
	)
	if err != nil {
		t.Fatalf("bob sends his stale edit: %v", err)
	}
	eventually(t, "the refusal of bob's stale edit on B", 20*time.Second, func() (bool, error) {
		_, ok := b.remoteEdit(t, "bob", func(e courses.RemoteEdit) bool { return e.State == "refused" && e.Body == bobText })
		return ok, nil
	})
	if m := moduleOnA(); m.Revision != 3 || m.Body != olgaText {
		t.Fatalf("after the conflict A's module is at revision %d: %q", m.Revision, m.Body)
	}
	err = chromedp.Do(bobTab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#changes li.state-refused .conflict-mine`)))
	if err != nil {
		t.Fatalf("B's list of changes shows no conflict: %v", err)
	}
	if reason := browserText(t, bobTab, "#changes li.state-refused .reason"); !strings.Contains(reason, "revision 3") {
		t.Errorf("the refusal says %q, want it to name revision 3", reason)
	}
	err = chromedp.Do(bobTab, chromedp.Click(chromedp.CSS(`#module-`+itoa(mod.ID)+` a.edit-link`)), chromedp.WaitVisible(chromedp.CSS(`#conflict .conflict-mine`)))
	if err != nil {
		t.Fatalf("B's module page shows no conflict: %v", err)
	}
	if mine, theirs := browserText(t, bobTab, "#conflict .conflict-mine"), browserText(t, bobTab, "#conflict .conflict-theirs"); !strings.Contains(mine, bobText) || !strings.Contains(theirs, olgaText) {
		t.Fatalf("B's conflict view: yours %q, theirs %q", mine, theirs)
	}
	if body, base := browserValue(t, bobTab, `#module-edit textarea[name="body"]`), browserValue(t, bobTab, `#module-edit input[name="base"]`); body != bobText || base != "3" {
		t.Fatalf("B's editor after the conflict holds %q based on %q, want bob's text on revision 3", body, base)
	}
	if kept, err := a.courses.RefusedEdits(ctx, a.pool, mod.ID, bobIRI); err != nil || len(kept) != 1 || kept[0].Body != bobText {
		t.Errorf("A kept %+v (%v) of bob's refused text", kept, err)
	}
	// Bob merges and sends it again, on revision 3.
	merged := olgaText + "\n" + bobText
	err = chromedp.Do(bobTab,
		chromedp.SetValue(chromedp.CSS(`#module-edit textarea[name="body"]`), merged),
		chromedp.Click(chromedp.CSS(`#module-save`)),
		chromedp.WaitVisible(chromedp.CSS(`#changes li.remote-edit`)),
	)
	if err != nil {
		t.Fatalf("bob sends the merge: %v", err)
	}
	eventually(t, "the merge applied on A", 20*time.Second, func() (bool, error) {
		m := moduleOnA()
		return m.Revision == 4 && m.Body == merged, nil
	})

	// Bob opens the editor, olga revokes his grant in her page, and bob's
	// very next edit is refused: the module stays as it was.
	err = chromedp.Do(bobTab, chromedp.Reload(), chromedp.Click(chromedp.CSS(`#module-`+itoa(mod.ID)+` a.edit-link`)),
		chromedp.WaitVisible(chromedp.CSS(`form#module-edit`)))
	if err != nil {
		t.Fatal(err)
	}
	if base := browserValue(t, bobTab, `#module-edit input[name="base"]`); base != "4" {
		t.Fatalf("B's editor is based on revision %q, want 4", base)
	}
	err = chromedp.Do(olgaTab,
		chromedp.Navigate(baseA+"/courses/together/coauthors"),
		chromedp.WaitVisible(chromedp.CSS(`#grants tr.state-granted button.revoke-button`)),
		chromedp.Click(chromedp.CSS(`#grants tr.state-granted button.revoke-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#grants tr.grant.state-revoked`)),
	)
	if err != nil {
		t.Fatalf("olga revokes bob's grant: %v", err)
	}
	if has := browserHas(t, olgaTab, "#grants button.revoke-button"); has {
		t.Error("a revoked grant still offers Revoke")
	}
	const revokedText = "Written after the revocation."
	err = chromedp.Do(bobTab,
		chromedp.SetValue(chromedp.CSS(`#module-edit textarea[name="body"]`), revokedText),
		chromedp.Click(chromedp.CSS(`#module-save`)),
		chromedp.WaitVisible(chromedp.CSS(`#changes li.remote-edit`)),
	)
	if err != nil {
		t.Fatalf("bob sends an edit after the revocation: %v", err)
	}
	eventually(t, "the refusal of bob's edit after the revocation", 20*time.Second, func() (bool, error) {
		e, ok := b.remoteEdit(t, "bob", func(e courses.RemoteEdit) bool { return e.Body == revokedText && e.State == "refused" })
		return ok && strings.Contains(e.Reason, "not allowed"), nil
	})
	if m := moduleOnA(); m.Revision != 4 || m.Body != merged {
		t.Fatalf("after the revocation A's module is at revision %d: %q", m.Revision, m.Body)
	}
	var leaked int
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_activities WHERE body LIKE '%'||$1||'%'`, revokedText).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("%d of A's activities carry the refused text (%v)", leaked, err)
	}
	// Once the course's Remove reaches B, B offers bob no editor.
	eventually(t, "the Remove on B", 20*time.Second, func() (bool, error) {
		_, err := b.courses.GrantIn(ctx, b.pool, b.user(t, "bob").ID, courseIRI)
		return err != nil, nil
	})
	err = chromedp.Do(bobTab, chromedp.Navigate(baseB+"/remote/syllabus?iri="+courseIRI), chromedp.WaitVisible(chromedp.CSS(`#remote-syllabus`)))
	if err != nil {
		t.Fatal(err)
	}
	if browserHas(t, bobTab, "#grant-role") || browserHas(t, bobTab, "a.edit-link") || browserHas(t, bobTab, "#add-module-form") {
		t.Error("B still offers bob the editor after the revocation")
	}
}
