package courses

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on a module.
const (
	MaxModuleTitleLen   = 200     // characters
	MaxModuleSummaryLen = 2000    // characters
	MaxModuleBodyLen    = 100_000 // bytes of Markdown
	MaxModuleMinutes    = 100_000
	MaxModuleLinks      = 50 // links, and attachments, each
	maxURLLen           = 2000
)

// Link is a reading or resource a module points to.
type Link struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
}

// Attachment is a file a module comes with, named by URL (colearn stores
// no uploads): a document, an image, a dataset.
type Attachment struct {
	URL       string `json:"url"`
	Name      string `json:"name,omitempty"`
	MediaType string `json:"mediaType,omitempty"`
}

// ModuleDraft is the editable content of a module: what a revision holds.
type ModuleDraft struct {
	Title            string       `json:"title"`
	Summary          string       `json:"summary"` // plain text, one paragraph
	Body             string       `json:"body"`    // Markdown
	EstimatedMinutes int          `json:"estimatedMinutes"`
	Links            []Link       `json:"links"`
	Attachments      []Attachment `json:"attachments"`
}

var mediaTypePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$`)

func (d *ModuleDraft) normalize() {
	d.Title = strings.TrimSpace(d.Title)
	d.Summary = strings.Join(strings.Fields(d.Summary), " ")
	d.Body = strings.ReplaceAll(d.Body, "\r\n", "\n")
	if d.Links == nil {
		d.Links = []Link{}
	}
	if d.Attachments == nil {
		d.Attachments = []Attachment{}
	}
	for i := range d.Links {
		d.Links[i].URL = strings.TrimSpace(d.Links[i].URL)
		d.Links[i].Title = strings.TrimSpace(d.Links[i].Title)
	}
	for i := range d.Attachments {
		a := &d.Attachments[i]
		a.URL, a.Name, a.MediaType = strings.TrimSpace(a.URL), strings.TrimSpace(a.Name), strings.ToLower(strings.TrimSpace(a.MediaType))
	}
}

func (d ModuleDraft) validate() error {
	switch {
	case !utf8.ValidString(d.Title + d.Summary + d.Body):
		return &ValidationError{Field: "body", Message: "the module is not valid UTF-8 text"}
	case d.Title == "" || utf8.RuneCountInString(d.Title) > MaxModuleTitleLen:
		return &ValidationError{Field: "title", Message: fmt.Sprintf("give a title of at most %d characters", MaxModuleTitleLen)}
	case utf8.RuneCountInString(d.Summary) > MaxModuleSummaryLen:
		return &ValidationError{Field: "summary", Message: fmt.Sprintf("the summary is longer than %d characters", MaxModuleSummaryLen)}
	case len(d.Body) > MaxModuleBodyLen:
		return &ValidationError{Field: "body", Message: fmt.Sprintf("the module is longer than %d bytes", MaxModuleBodyLen)}
	case d.EstimatedMinutes < 0 || d.EstimatedMinutes > MaxModuleMinutes:
		return &ValidationError{Field: "minutes", Message: fmt.Sprintf("the estimated time is between 0 and %d minutes", MaxModuleMinutes)}
	case len(d.Links) > MaxModuleLinks || len(d.Attachments) > MaxModuleLinks:
		return &ValidationError{Field: "links", Message: fmt.Sprintf("at most %d links and %d attachments", MaxModuleLinks, MaxModuleLinks)}
	}
	for _, l := range d.Links {
		if err := checkURL("links", l.URL); err != nil {
			return err
		}
		if !utf8.ValidString(l.Title) || utf8.RuneCountInString(l.Title) > MaxModuleTitleLen {
			return &ValidationError{Field: "links", Message: "a link's title is at most 200 characters"}
		}
	}
	for _, a := range d.Attachments {
		if err := checkURL("attachments", a.URL); err != nil {
			return err
		}
		if !utf8.ValidString(a.Name) || utf8.RuneCountInString(a.Name) > MaxModuleTitleLen {
			return &ValidationError{Field: "attachments", Message: "an attachment's name is at most 200 characters"}
		}
		if a.MediaType != "" && !mediaTypePattern.MatchString(a.MediaType) {
			return &ValidationError{Field: "attachments", Message: fmt.Sprintf("%q is not a media type such as application/pdf", a.MediaType)}
		}
	}
	return nil
}

// checkURL accepts absolute http and https URLs only: no javascript:, no
// data:, nothing relative.
func checkURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || len(raw) > maxURLLen || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return &ValidationError{Field: field, Message: fmt.Sprintf("%q is not an http or https address", raw)}
	}
	return nil
}

// Equal reports whether two drafts hold the same content.
func (d ModuleDraft) Equal(o ModuleDraft) bool {
	return d.Title == o.Title && d.Summary == o.Summary && d.Body == o.Body && d.EstimatedMinutes == o.EstimatedMinutes &&
		slices.Equal(d.Links, o.Links) && slices.Equal(d.Attachments, o.Attachments)
}

// Changes names the fields that differ from d to o ("title, body"), for a
// revision's description.
func (d ModuleDraft) Changes(o ModuleDraft) string {
	var out []string
	add := func(changed bool, name string) {
		if changed {
			out = append(out, name)
		}
	}
	add(d.Title != o.Title, "title")
	add(d.Summary != o.Summary, "summary")
	add(d.Body != o.Body, "body")
	add(d.EstimatedMinutes != o.EstimatedMinutes, "estimated time")
	add(!slices.Equal(d.Links, o.Links), "links")
	add(!slices.Equal(d.Attachments, o.Attachments), "attachments")
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}

// ParseLinks reads links written one per line as "URL" or "URL title", the
// way the module form and the CLI take them.
func ParseLinks(text string) []Link {
	var out []Link
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		u, title, _ := strings.Cut(line, " ")
		out = append(out, Link{URL: u, Title: strings.TrimSpace(title)})
	}
	return out
}

// FormatLinks writes links back in ParseLinks's form.
func FormatLinks(links []Link) string {
	var b strings.Builder
	for _, l := range links {
		b.WriteString(strings.TrimSpace(l.URL + " " + l.Title))
		b.WriteByte('\n')
	}
	return b.String()
}

// ParseAttachments reads attachments one per line as "URL [media/type]
// [name]", the way the module form takes them.
func ParseAttachments(text string) []Attachment {
	var out []Attachment
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		a := Attachment{URL: f[0]}
		rest := f[1:]
		if len(rest) > 0 && strings.Contains(rest[0], "/") {
			a.MediaType, rest = rest[0], rest[1:]
		}
		a.Name = strings.Join(rest, " ")
		out = append(out, a)
	}
	return out
}

// FormatAttachments writes attachments back in ParseAttachments's form.
func FormatAttachments(as []Attachment) string {
	var b strings.Builder
	for _, a := range as {
		b.WriteString(strings.Join(strings.Fields(a.URL+" "+a.MediaType+" "+a.Name), " "))
		b.WriteByte('\n')
	}
	return b.String()
}
