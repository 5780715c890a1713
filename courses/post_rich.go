package courses

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// PostTag is a Mention or Hashtag tag of a post: Name is what the post
// shows ("@bob@example.org", "#go"), Href the mentioned actor's IRI or the
// hashtag's page.
type PostTag struct {
	Type string `json:"type"`
	Name string `json:"name"`
	Href string `json:"href"`
}

// PostAttachment is an image, document or link attached to a post. URL is
// where it is (never fetched nor proxied by colearn), Name its alt text or
// title.
type PostAttachment struct {
	Type      string `json:"type"` // Document, Image, Link, Audio or Video
	MediaType string `json:"mediaType,omitempty"`
	URL       string `json:"url"`
	Name      string `json:"name,omitempty"`
}

// IsImage reports whether the attachment is an image a page may show.
func (a PostAttachment) IsImage() bool {
	return a.Type != "Link" && strings.HasPrefix(a.MediaType, "image/")
}

// Limits on what a post carries besides its content; more is cut off, not
// refused, since remote posts come as they are.
const (
	MaxPostSummary     = 500 // runes of content warning
	MaxPostTags        = 50
	MaxPostAttachments = 16
	maxTagName         = 200
	maxAttachmentName  = 1500
	maxRichURL         = 2048
)

// Tag types a post may carry.
const (
	TagMention = "Mention"
	TagHashtag = "Hashtag"
)

var (
	attachmentTypes = map[string]bool{"Document": true, "Image": true, "Link": true, "Audio": true, "Video": true}
	mediaTypeRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$`)
)

// cleanRich makes a post's content warning, tags and attachments safe to
// store and show, whatever their source: plain text only in names and
// summaries, only http(s) URLs (a javascript: or data: URL drops its tag or
// attachment), only known types, and at most the limits above. A content
// warning marks the post sensitive. It fails only on a local post whose
// content warning is too long.
func (s *Store) cleanRich(p *Post) error {
	summary := strings.Join(strings.Fields(s.content.policyText(p.Summary)), " ")
	if utf8.RuneCountInString(summary) > MaxPostSummary {
		if p.Local {
			return &ValidationError{Field: "summary", Message: fmt.Sprintf("the content warning is longer than %d characters", MaxPostSummary)}
		}
		summary = string([]rune(summary)[:MaxPostSummary])
	}
	p.Summary = summary
	if p.Summary != "" {
		p.Sensitive = true
	}
	tags := make([]PostTag, 0, len(p.Tags))
	for _, t := range p.Tags {
		if len(tags) == MaxPostTags {
			break
		}
		t.Name = clip(strings.TrimSpace(s.content.policyText(t.Name)), maxTagName)
		href, ok := webURL(t.Href)
		switch {
		case t.Type != TagMention && t.Type != TagHashtag, t.Name == "":
			continue
		case t.Type == TagMention && !ok:
			continue
		}
		t.Href = href
		tags = append(tags, t)
	}
	p.Tags = tags
	atts := make([]PostAttachment, 0, len(p.Attachments))
	for _, a := range p.Attachments {
		if len(atts) == MaxPostAttachments {
			break
		}
		u, ok := webURL(a.URL)
		if !ok || !attachmentTypes[a.Type] {
			continue
		}
		a.URL = u
		a.MediaType = strings.ToLower(strings.TrimSpace(a.MediaType))
		if !mediaTypeRE.MatchString(a.MediaType) {
			a.MediaType = ""
		}
		a.Name = clip(strings.TrimSpace(s.content.policyText(a.Name)), maxAttachmentName)
		atts = append(atts, a)
	}
	p.Attachments = atts
	return nil
}

// webURL returns raw when it is an absolute http or https URL with a host,
// the only URLs colearn links to from a post's tags and attachments.
func webURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxRichURL {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", false
	}
	return u.String(), true
}

// clip cuts s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// Mentions returns the IRIs of the actors p mentions.
func (p Post) Mentions() []string {
	var out []string
	for _, t := range p.Tags {
		if t.Type == TagMention {
			out = append(out, t.Href)
		}
	}
	return out
}
