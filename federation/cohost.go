package federation

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// CourseDoc is what a co-host mirrors of a course's Group document.
type CourseDoc struct {
	ID, Type, Name, Summary, Username, Language, Licence, Modules, Inbox string
	Tags                                                                 []string
}

// ParseCourseDoc reads a course's Group document (fetched from its id, or
// embedded in the course's own Update). It refuses anything that is not a
// Group, and a modules collection on another origin than the course. Names
// are matched exactly (go-json-experiment), as go-ap reads them, so a
// document carrying both "name" and "NAME" is read one way everywhere.
func ParseCourseDoc(body []byte) (CourseDoc, error) {
	var raw struct {
		ID                string         `json:"id"`
		Type              string         `json:"type"`
		Name              string         `json:"name"`
		Summary           string         `json:"summary"`
		PreferredUsername string         `json:"preferredUsername"`
		Language          string         `json:"language"`
		Licence           string         `json:"licence"`
		Modules           string         `json:"modules"`
		Inbox             string         `json:"inbox"`
		Tag               jsontext.Value `json:"tag"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return CourseDoc{}, fmt.Errorf("course document: %w", err)
	}
	if raw.Type != "Group" || Origin(raw.ID) == "" {
		return CourseDoc{}, fmt.Errorf("course document %q is a %q, not a Group", raw.ID, raw.Type)
	}
	if raw.Modules != "" && !SameOrigin(raw.Modules, raw.ID) {
		return CourseDoc{}, fmt.Errorf("course %s names a syllabus on another server", raw.ID)
	}
	if raw.Inbox != "" && !SameOrigin(raw.Inbox, raw.ID) {
		raw.Inbox = ""
	}
	d := CourseDoc{ID: raw.ID, Type: raw.Type, Name: raw.Name, Summary: raw.Summary, Username: raw.PreferredUsername,
		Language: raw.Language, Licence: raw.Licence, Modules: raw.Modules, Inbox: raw.Inbox}
	var tags []struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if len(raw.Tag) > 0 && raw.Tag[0] == '[' {
		_ = json.Unmarshal(raw.Tag, &tags) // tags are decoration: a malformed list is no tags
	}
	for _, t := range tags {
		if t.Type == "Hashtag" && t.Name != "" && len(d.Tags) < 50 {
			d.Tags = append(d.Tags, strings.TrimPrefix(t.Name, "#"))
		}
	}
	return d, nil
}

// ModuleDoc is what a co-host mirrors of a module Article.
type ModuleDoc struct {
	ID, Context, Name, Summary, Content, Source string
	Position, Revision                          int
	Updated                                     time.Time
}

// ParseModuleDoc reads a module Article of courseIRI; it must be an
// Article on the course's origin whose context is the course. Names are
// matched exactly, as in ParseCourseDoc.
func ParseModuleDoc(body []byte, courseIRI string) (ModuleDoc, error) {
	var raw struct {
		ID        string    `json:"id"`
		Type      string    `json:"type"`
		Name      string    `json:"name"`
		Summary   string    `json:"summary"`
		Content   string    `json:"content"`
		Context   string    `json:"context"`
		Position  int       `json:"position"`
		Revision  int       `json:"revision"`
		Published time.Time `json:"published"`
		Updated   time.Time `json:"updated"`
		Source    struct {
			Content   string `json:"content"`
			MediaType string `json:"mediaType"`
		} `json:"source"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return ModuleDoc{}, fmt.Errorf("module document: %w", err)
	}
	if raw.Type != "Article" || raw.Context != courseIRI || !SameOrigin(raw.ID, courseIRI) {
		return ModuleDoc{}, fmt.Errorf("module %q is not an Article of %s on its server", raw.ID, courseIRI)
	}
	m := ModuleDoc{ID: raw.ID, Context: raw.Context, Name: raw.Name, Summary: raw.Summary, Content: raw.Content,
		Position: raw.Position, Revision: raw.Revision, Updated: raw.Updated}
	if raw.Source.MediaType == "text/markdown" {
		m.Source = raw.Source.Content
	}
	if m.Updated.IsZero() {
		m.Updated = raw.Published
	}
	return m, nil
}

// withCohosts adds colearn:cohostedBy (the instance actors co-hosting the
// course) to a course document's extension terms when there are any.
func withCohosts(ext map[string]any, cohosts []string) map[string]any {
	if len(cohosts) > 0 {
		ext["colearn:cohostedBy"] = cohosts
	}
	return ext
}
