package courses

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Achievement is something a local course recognises with a badge (an Open
// Badges 3.0 Achievement). Criteria is Markdown.
type Achievement struct {
	ID           int64
	PublicID     string // in its URL: /courses/SLUG/achievements/PUBLIC_ID
	CourseID     int64
	Name         string
	Description  string
	Criteria     string
	ImageURL     string
	Tags         []string
	Alignments   []Alignment
	PeerReviews  int  // approving peer reviews that award a request; 0: facilitators only
	OnCompletion bool // awarded when a learner completes the course
	CreatedBy    string
	CreatedAt    time.Time
}

// Alignment ties an achievement to a competency framework or standard.
type Alignment struct {
	TargetName        string `json:"targetName"`
	TargetURL         string `json:"targetUrl"`
	TargetDescription string `json:"targetDescription,omitempty"`
	TargetFramework   string `json:"targetFramework,omitempty"`
	TargetCode        string `json:"targetCode,omitempty"`
}

// AchievementDraft is what an author writes to define an achievement.
type AchievementDraft struct {
	Name         string
	Description  string
	Criteria     string
	ImageURL     string
	Tags         []string
	Alignments   []Alignment
	PeerReviews  int
	OnCompletion bool
}

const achievementColumns = `id, public_id, course_id, name, description, criteria, image_url, tags, alignments,
	peer_reviews, on_completion, created_by, created_at`

func scanAchievement(row pgx.Row) (Achievement, error) {
	var a Achievement
	var aligns []byte
	err := row.Scan(&a.ID, &a.PublicID, &a.CourseID, &a.Name, &a.Description, &a.Criteria, &a.ImageURL, &a.Tags, &aligns,
		&a.PeerReviews, &a.OnCompletion, &a.CreatedBy, &a.CreatedAt)
	if err == nil {
		err = json.Unmarshal(aligns, &a.Alignments)
	}
	return a, err
}

// newPublicID returns 80 random bits, base32 lower-case: the unguessable
// part of achievement and credential URLs.
func newPublicID() string {
	var b [10]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (d *AchievementDraft) normalize() {
	d.Name = strings.TrimSpace(d.Name)
	d.Description = strings.TrimSpace(d.Description)
	d.Criteria = strings.TrimSpace(d.Criteria)
	d.ImageURL = strings.TrimSpace(d.ImageURL)
	var tags []string
	for _, t := range d.Tags {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	d.Tags = tags
}

func (d AchievementDraft) validate() error {
	switch {
	case d.Name == "" || utf8.RuneCountInString(d.Name) > 200:
		return &ValidationError{Field: "name", Message: "give a name of at most 200 characters"}
	case d.Description == "" || utf8.RuneCountInString(d.Description) > 2000:
		return &ValidationError{Field: "description", Message: "give a description of at most 2,000 characters"}
	case d.Criteria == "" || utf8.RuneCountInString(d.Criteria) > 10000:
		return &ValidationError{Field: "criteria", Message: "say what earns the badge, in at most 10,000 characters"}
	case d.ImageURL != "" && !absoluteHTTP(d.ImageURL):
		return &ValidationError{Field: "image", Message: "the image must be an http(s) URL"}
	case len(d.Tags) > 20:
		return &ValidationError{Field: "tags", Message: "at most 20 tags"}
	case d.PeerReviews < 0 || d.PeerReviews > 20:
		return &ValidationError{Field: "peer-reviews", Message: "peer reviews needed must be 0 to 20"}
	}
	for _, a := range d.Alignments {
		if a.TargetName == "" || !absoluteHTTP(a.TargetURL) {
			return &ValidationError{Field: "alignment", Message: "an alignment needs a name and an http(s) URL"}
		}
	}
	return nil
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// CreateAchievement defines an achievement of course c, by the actor by,
// who must be its owner or a moderator (ErrForbidden otherwise). Bad input
// is a *ValidationError.
func (s *Store) CreateAchievement(ctx context.Context, q Querier, c Course, by string, d AchievementDraft) (Achievement, error) {
	d.normalize()
	if err := d.validate(); err != nil {
		return Achievement{}, err
	}
	if ok, err := canModerate(ctx, q, c.ID, by); err != nil || !ok {
		return Achievement{}, forbidden(err, "define achievements of", c.Slug, by)
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	aligns, _ := json.Marshal(append([]Alignment{}, d.Alignments...))
	a, err := scanAchievement(q.QueryRow(ctx, `
		INSERT INTO achievements (public_id, course_id, name, description, criteria, image_url, tags, alignments, peer_reviews, on_completion, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+achievementColumns,
		newPublicID(), c.ID, d.Name, d.Description, d.Criteria, d.ImageURL, d.Tags, aligns, d.PeerReviews, d.OnCompletion, by))
	if err != nil {
		return Achievement{}, fmt.Errorf("create achievement in %s: %w", c.Slug, err)
	}
	// The course page lists the course's achievements.
	if err := s.courseChanged(ctx, q, c.ID); err != nil {
		return Achievement{}, err
	}
	return a, nil
}

// Achievements lists a course's achievements, oldest first.
func (s *Store) Achievements(ctx context.Context, q Querier, courseID int64) ([]Achievement, error) {
	rows, err := q.Query(ctx, `SELECT `+achievementColumns+` FROM achievements WHERE course_id = $1 ORDER BY id`, courseID)
	if err != nil {
		return nil, fmt.Errorf("achievements of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Achievement, error) { return scanAchievement(r) })
}

// AchievementByPublicID returns an achievement of course courseID, or
// ErrNotFound.
func (s *Store) AchievementByPublicID(ctx context.Context, q Querier, courseID int64, publicID string) (Achievement, error) {
	a, err := scanAchievement(q.QueryRow(ctx, `SELECT `+achievementColumns+` FROM achievements WHERE course_id = $1 AND public_id = $2`, courseID, publicID))
	if err != nil {
		return Achievement{}, fmt.Errorf("achievement %s: %w", publicID, notFound(err))
	}
	return a, nil
}

// AchievementByID returns the achievement id, or ErrNotFound.
func (s *Store) AchievementByID(ctx context.Context, q Querier, id int64) (Achievement, error) {
	a, err := scanAchievement(q.QueryRow(ctx, `SELECT `+achievementColumns+` FROM achievements WHERE id = $1`, id))
	if err != nil {
		return Achievement{}, fmt.Errorf("achievement %d: %w", id, notFound(err))
	}
	return a, nil
}
