package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/outbox"
)

// achievementView is an achievement as the pages show it.
type achievementView struct {
	courses.Achievement
	URL      string
	Criteria template.HTML // Markdown rendered and sanitised
}

type awardView struct {
	courses.Award
	Achievement string
	URL         string
}

type requestView struct {
	courses.BadgeRequest
	Achievement string
	PeerReviews int
	Approvals   int
	Own         bool // the viewer asked
	Reviewed    bool // the viewer reviewed it
}

// badgesPage is a course's badges page: its achievements for everyone; the
// request form for members; awarding, requests and revocation for
// facilitators; peer review where the achievement allows it.
type badgesPage struct {
	Course       courses.Course
	IRI          string
	Achievements []achievementView
	Membership   *courses.Member
	CanAward     bool
	Members      []courses.Member
	Awards       []awardView
	Requests     []requestView
	Error        string
	Issued       string // URL of the credential just issued
}

// achievementViews lists c's achievements for the course and badges pages.
func (h *Handler) achievementViews(ctx context.Context, c courses.Course) ([]achievementView, error) {
	achs, err := h.cfg.Store.Achievements(ctx, h.cfg.Pool, c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]achievementView, 0, len(achs))
	for _, a := range achs {
		out = append(out, achievementView{Achievement: a, URL: h.cfg.Actions.AchievementIRI(c, a),
			Criteria: template.HTML(h.cfg.Store.Content().Markdown(a.Criteria))})
	}
	return out, nil
}

func (h *Handler) courseBadges(w http.ResponseWriter, r *http.Request) {
	c, ok := h.findCourse(w, r, chi.URLParam(r, "slug"))
	if !ok {
		return
	}
	h.renderBadges(w, r, c, http.StatusOK, badgesPage{Issued: r.URL.Query().Get("issued")})
}

func (h *Handler) renderBadges(w http.ResponseWriter, r *http.Request, c courses.Course, status int, p badgesPage) {
	if err := h.loadBadges(r, c, &p); err != nil {
		h.serverError(w, r, fmt.Errorf("badges of %s: %w", c.Slug, err))
		return
	}
	allowRemoteImages(w)
	h.render(w, r, status, "badges", "Badges of "+c.Title, p)
}

func (h *Handler) loadBadges(r *http.Request, c courses.Course, p *badgesPage) error {
	ctx, q, store := r.Context(), h.cfg.Pool, h.cfg.Store
	p.Course, p.IRI = c, h.cfg.URLs.Course(c.Slug)
	var err error
	if p.Achievements, err = h.achievementViews(ctx, c); err != nil {
		return err
	}
	names := map[int64]courses.Achievement{}
	for _, a := range p.Achievements {
		names[a.ID] = a.Achievement
	}
	me := viewer(r)
	if me == nil {
		return nil
	}
	myIRI := h.cfg.URLs.User(me.Username)
	switch m, err := store.MemberOf(ctx, q, c.ID, myIRI); {
	case err == nil:
		p.Membership = &m
	case !errors.Is(err, courses.ErrNotFound):
		return err
	}
	if p.CanAward, err = store.CanAward(ctx, q, c.ID, myIRI); err != nil {
		return err
	}
	reqs, err := store.BadgeRequests(ctx, q, c.ID)
	if err != nil {
		return err
	}
	for _, rq := range reqs {
		a := names[rq.AchievementID]
		v := requestView{BadgeRequest: rq, Achievement: a.Name, PeerReviews: a.PeerReviews, Own: rq.RequesterIRI == myIRI}
		for _, rv := range rq.Reviews {
			if rv.Approve && rv.ReviewerIRI != rq.RequesterIRI {
				v.Approvals++
			}
			v.Reviewed = v.Reviewed || rv.ReviewerIRI == myIRI
		}
		if p.CanAward || v.Own || (p.Membership != nil && p.Membership.State == courses.StateAccepted && a.PeerReviews > 0) {
			p.Requests = append(p.Requests, v)
		}
	}
	if !p.CanAward {
		return nil
	}
	if p.Members, err = store.Members(ctx, q, c.ID); err != nil {
		return err
	}
	awards, err := store.Awards(ctx, q, c.ID)
	if err != nil {
		return err
	}
	for _, aw := range awards {
		p.Awards = append(p.Awards, awardView{Award: aw, Achievement: names[aw.AchievementID].Name, URL: h.cfg.Actions.CredentialIRI(aw.PublicID)})
	}
	return nil
}

// badgeFailed answers a refused badge form: 422 re-renders the badges page
// with the message, other refusals get the error page.
func (h *Handler) badgeFailed(w http.ResponseWriter, r *http.Request, c courses.Course, err error) {
	status, msg, ok := badgeError(err)
	switch {
	case !ok:
		h.serverError(w, r, fmt.Errorf("badges %s: %s: %w", c.Slug, r.URL.Path, err))
	case status == http.StatusUnprocessableEntity:
		h.renderBadges(w, r, c, status, badgesPage{Error: msg})
	default:
		h.renderError(w, r, status, http.StatusText(status), msg)
	}
}

func badgeError(err error) (int, string, bool) {
	switch {
	case errors.Is(err, courses.ErrNotMember):
		return http.StatusUnprocessableEntity, "Only enrolled learners of this course can receive or ask for its badges.", true
	case errors.Is(err, courses.ErrAlreadyAwarded):
		return http.StatusUnprocessableEntity, "That learner already holds this badge.", true
	case errors.Is(err, outbox.ErrNoRecipient):
		return http.StatusUnprocessableEntity, "No such learner: give a username, a @name@host handle or an actor URL.", true
	case errors.Is(err, courses.ErrNotReady):
		return http.StatusUnprocessableEntity, "That learner has not finished the course yet: every module must be marked done.", true
	case errors.Is(err, courses.ErrDecided):
		return http.StatusUnprocessableEntity, "That request was already decided.", true
	}
	return actionError(err)
}

func backToBadges(w http.ResponseWriter, r *http.Request, c courses.Course, query string) {
	target := "/courses/" + url.PathEscape(c.Slug) + "/badges"
	if query != "" {
		target += "?" + query
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (h *Handler) formAchievement(w http.ResponseWriter, r *http.Request, c courses.Course) (courses.Achievement, bool) {
	id := strings.TrimSpace(r.PostForm.Get("achievement"))
	if i := strings.LastIndex(id, "/"); i >= 0 {
		id = id[i+1:]
	}
	a, err := h.cfg.Store.AchievementByPublicID(r.Context(), h.cfg.Pool, c.ID, id)
	if err != nil {
		h.badgeFailed(w, r, c, err)
		return a, false
	}
	return a, true
}

func (h *Handler) createAchievement(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	f := r.PostForm
	peers, _ := strconv.Atoi(f.Get("peer_reviews"))
	d := courses.AchievementDraft{
		Name: f.Get("name"), Description: f.Get("description"), Criteria: f.Get("criteria"), ImageURL: f.Get("image"),
		Tags: strings.Split(f.Get("tags"), ","), PeerReviews: peers, OnCompletion: f.Get("on_completion") != "",
	}
	if _, err := h.cfg.Actions.CreateAchievement(r.Context(), me, c, d); err != nil {
		h.badgeFailed(w, r, c, err)
		return
	}
	backToBadges(w, r, c, "")
}

func (h *Handler) awardBadge(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	a, ok := h.formAchievement(w, r, c)
	if !ok {
		return
	}
	aw, err := h.cfg.Actions.AwardBadge(r.Context(), me, c, a, r.PostForm.Get("to"), r.PostForm.Get("evidence"))
	if err != nil {
		h.badgeFailed(w, r, c, err)
		return
	}
	backToBadges(w, r, c, "issued="+url.QueryEscape(h.cfg.Actions.CredentialIRI(aw.PublicID)))
}

func (h *Handler) revokeBadge(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	id := r.PostForm.Get("credential")
	aw, err := h.cfg.Store.AwardByPublicID(r.Context(), h.cfg.Pool, id)
	if err == nil && aw.CourseID != c.ID {
		err = courses.ErrNotFound
	}
	if err == nil {
		_, err = h.cfg.Actions.RevokeBadge(r.Context(), me, id)
	}
	if err != nil {
		h.badgeFailed(w, r, c, err)
		return
	}
	backToBadges(w, r, c, "")
}

func (h *Handler) requestBadge(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	a, ok := h.formAchievement(w, r, c)
	if !ok {
		return
	}
	if _, err := h.cfg.Actions.RequestBadge(r.Context(), me, c, a, r.PostForm.Get("evidence")); err != nil {
		h.badgeFailed(w, r, c, err)
		return
	}
	backToBadges(w, r, c, "")
}

func (h *Handler) reviewBadge(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	id, err := strconv.ParseInt(r.PostForm.Get("request"), 10, 64)
	if err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "No request was named.")
		return
	}
	_, aw, err := h.cfg.Actions.ReviewBadgeRequest(r.Context(), me, c, id, r.PostForm.Get("approve") == "yes", r.PostForm.Get("comment"))
	if err != nil {
		h.badgeFailed(w, r, c, err)
		return
	}
	q := ""
	if aw != nil {
		q = "issued=" + url.QueryEscape(h.cfg.Actions.CredentialIRI(aw.PublicID))
	}
	backToBadges(w, r, c, q)
}

func (h *Handler) completeCourse(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	if _, err := h.cfg.Actions.CompleteCourse(r.Context(), me, c, r.PostForm.Get("learner")); err != nil {
		h.badgeFailed(w, r, c, err)
		return
	}
	backToBadges(w, r, c, "")
}
