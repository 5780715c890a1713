package main

import (
	"errors"
	"testing"

	"github.com/colearn/colearn/courses"
)

// Requests with evidence, facilitator decisions, peer assessment and
// completion-triggered awards, each with what is recorded.
func TestBadgeRequestsReviewsAndCompletion(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	for _, n := range []string{"olga", "lena", "max", "nina", "omar"} {
		a.createUser(t, n)
	}
	olga, lena, max, nina, omar := a.user(t, "olga"), a.user(t, "lena"), a.user(t, "max"), a.user(t, "nina"), a.user(t, "omar")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "intro-go", Title: "Intro to Go"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []courses.User{lena, max, nina} {
		if _, err := a.actions.Enroll(ctx, u, course); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(d courses.AchievementDraft) courses.Achievement {
		t.Helper()
		d.Description, d.Criteria = "d", "c"
		ach, err := a.actions.CreateAchievement(ctx, olga, course, d)
		if err != nil {
			t.Fatal(err)
		}
		return ach
	}
	if _, err := a.actions.CreateAchievement(ctx, max, course, courses.AchievementDraft{Name: "x", Description: "d", Criteria: "c"}); !errors.Is(err, courses.ErrForbidden) {
		t.Fatalf("a learner defined an achievement: %v", err)
	}
	byFacilitator := mk(courses.AchievementDraft{Name: "Reviewed"})
	byPeers := mk(courses.AchievementDraft{Name: "Peer assessed", PeerReviews: 2})
	onCompletion := mk(courses.AchievementDraft{Name: "Finisher", OnCompletion: true})
	held := func(u courses.User, name string) int {
		n := 0
		for _, it := range a.backpack(t, u.Username) {
			if it.Name == name && it.RevokedAt == nil {
				n++
			}
		}
		return n
	}

	// Outsiders cannot ask; evidence is required.
	if _, err := a.actions.RequestBadge(ctx, omar, course, byFacilitator, "I did it"); !errors.Is(err, courses.ErrNotMember) {
		t.Fatalf("a non-member asked: %v", err)
	}
	var verr *courses.ValidationError
	if _, err := a.actions.RequestBadge(ctx, lena, course, byFacilitator, "  "); !errors.As(err, &verr) {
		t.Fatalf("a request without evidence: %v", err)
	}

	// Facilitator approval: a peer may not decide; the facilitator does.
	req, err := a.actions.RequestBadge(ctx, lena, course, byFacilitator, "My web server: https://code.example/lena")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.actions.ReviewBadgeRequest(ctx, max, course, req.ID, true, "looks good"); !errors.Is(err, courses.ErrForbidden) {
		t.Fatalf("a peer reviewed a facilitator-only request: %v", err)
	}
	v, aw, err := a.actions.ReviewBadgeRequest(ctx, olga, course, req.ID, true, "well done")
	if err != nil || v != courses.VerdictApprove || aw == nil {
		t.Fatalf("facilitator approval: %v %v %v", v, aw, err)
	}
	got, err := a.courses.BadgeRequestByID(ctx, a.pool, req.ID)
	if err != nil || got.State != courses.RequestApproved || got.AwardID != aw.ID || got.DecidedBy != a.urls.User("olga") ||
		len(got.Reviews) != 1 || got.Reviews[0].Comment != "well done" {
		t.Fatalf("recorded request: %+v %v", got, err)
	}
	if aw.Evidence != req.Evidence || held(lena, "Reviewed") != 1 {
		t.Fatalf("award %+v; lena holds %d", aw, held(lena, "Reviewed"))
	}
	if _, _, err := a.actions.ReviewBadgeRequest(ctx, olga, course, req.ID, false, ""); !errors.Is(err, courses.ErrDecided) {
		t.Fatalf("a decided request was reviewed again: %v", err)
	}

	// A rejection is recorded and awards nothing.
	rej, err := a.actions.RequestBadge(ctx, max, course, byFacilitator, "trust me")
	if err != nil {
		t.Fatal(err)
	}
	if v, aw, err := a.actions.ReviewBadgeRequest(ctx, olga, course, rej.ID, false, "show your work"); err != nil || v != courses.VerdictReject || aw != nil {
		t.Fatalf("rejection: %v %v %v", v, aw, err)
	}
	if got, _ := a.courses.BadgeRequestByID(ctx, a.pool, rej.ID); got.State != courses.RequestRejected || held(max, "Reviewed") != 0 {
		t.Fatalf("after rejection: %+v", got)
	}

	// Peer assessment: two approving peers award it; the requester's own
	// review does not count; outsiders may not review.
	peer, err := a.actions.RequestBadge(ctx, lena, course, byPeers, "I reviewed three pull requests")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.actions.ReviewBadgeRequest(ctx, lena, course, peer.ID, true, ""); !errors.Is(err, courses.ErrForbidden) {
		t.Fatalf("the requester reviewed her own request: %v", err)
	}
	if _, _, err := a.actions.ReviewBadgeRequest(ctx, omar, course, peer.ID, true, ""); !errors.Is(err, courses.ErrForbidden) {
		t.Fatalf("a non-member reviewed: %v", err)
	}
	if v, aw, err := a.actions.ReviewBadgeRequest(ctx, max, course, peer.ID, true, "yes"); err != nil || v != courses.VerdictPending || aw != nil {
		t.Fatalf("first peer approval: %v %v %v", v, aw, err)
	}
	if held(lena, "Peer assessed") != 0 {
		t.Fatal("awarded after one of two peer approvals")
	}
	if v, aw, err := a.actions.ReviewBadgeRequest(ctx, nina, course, peer.ID, true, "agreed"); err != nil || v != courses.VerdictApprove || aw == nil {
		t.Fatalf("second peer approval: %v %v %v", v, aw, err)
	}
	if got, _ := a.courses.BadgeRequestByID(ctx, a.pool, peer.ID); got.State != courses.RequestApproved || len(got.Reviews) != 2 || held(lena, "Peer assessed") != 1 {
		t.Fatalf("after peer approvals: %+v", got)
	}

	// Completion: only a facilitator approves it; it awards the completion
	// badge once.
	if _, err := a.actions.CompleteCourse(ctx, max, course, "lena"); !errors.Is(err, courses.ErrForbidden) {
		t.Fatalf("a learner approved a completion: %v", err)
	}
	if held(lena, "Finisher") != 0 {
		t.Fatal("refused completion awarded a badge")
	}
	if _, err := a.actions.CompleteCourse(ctx, olga, course, "omar"); !errors.Is(err, courses.ErrNotReady) {
		t.Fatalf("completion of a non-member: %v", err)
	}
	// With a module in the syllabus, completion waits until it is done.
	mod, err := a.actions.AddModule(ctx, olga, course, courses.ModuleDraft{Title: "Types", Body: "All about types."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.actions.CompleteCourse(ctx, olga, course, "lena"); !errors.Is(err, courses.ErrNotReady) {
		t.Fatalf("completion with a module left: %v", err)
	}
	if held(lena, "Finisher") != 0 {
		t.Fatal("a completion badge before the modules were done")
	}
	if err := a.actions.MarkDone(ctx, lena, course, mod.ID, true); err != nil {
		t.Fatal(err)
	}
	awards, err := a.actions.CompleteCourse(ctx, olga, course, "lena")
	if err != nil || len(awards) != 1 || awards[0].AchievementID != onCompletion.ID {
		t.Fatalf("completion: %+v %v", awards, err)
	}
	if again, err := a.actions.CompleteCourse(ctx, olga, course, "lena"); err != nil || len(again) != 0 || held(lena, "Finisher") != 1 {
		t.Fatalf("second completion: %+v %v", again, err)
	}
	// Awarding twice is refused.
	if _, err := a.actions.AwardBadge(ctx, olga, course, byFacilitator, "lena", ""); !errors.Is(err, courses.ErrAlreadyAwarded) {
		t.Fatalf("awarded twice: %v", err)
	}
}
