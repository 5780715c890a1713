package web

import (
	"html/template"
	"strings"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// maxIndent caps the indentation of deep threads, so that a long
// back-and-forth stays readable.
const maxIndent = 6

// postView is a post as the discussion shows it.
type postView struct {
	courses.ThreadedPost
	Content template.HTML // sanitised by courses.Content when stored
	Handle  string        // @name@host of the author
	Indent  int           // Depth, capped at maxIndent
	Lesson  bool          // a module the course published: shown as a link to it
	Own     bool          // written by the viewer
}

// postViews prepares a thread for the page; myIRI is the viewer's actor
// IRI ("" for visitors).
func (h *Handler) postViews(thread []courses.ThreadedPost, myIRI string) []postView {
	out := make([]postView, 0, len(thread))
	for _, tp := range thread {
		out = append(out, postView{
			ThreadedPost: tp,
			// Post content went through courses.Content's sanitiser when it
			// was stored (SavePost), whatever its origin.
			Content: template.HTML(tp.Content),
			Handle:  fullHandle(tp.AuthorHandle, tp.AuthorIRI),
			Indent:  min(tp.Depth, maxIndent),
			Lesson:  tp.Type == "Article" && tp.AuthorIRI == tp.CourseIRI,
			Own:     myIRI != "" && tp.AuthorIRI == myIRI,
		})
	}
	return out
}

// fullHandle turns a stored author handle into @name@host: local authors
// are stored by their bare name, remote ones usually with their host.
func fullHandle(handle, actorIRI string) string {
	h := strings.TrimPrefix(handle, "@")
	if h == "" {
		return ""
	}
	if strings.Contains(h, "@") {
		return "@" + h
	}
	host := strings.TrimPrefix(strings.TrimPrefix(federation.Origin(actorIRI), "https://"), "http://")
	if host == "" {
		return "@" + h
	}
	return "@" + h + "@" + host
}

// trimHash is a hashtag's name without its "#", for its /tags/ page.
func trimHash(tag string) string { return strings.TrimPrefix(tag, "#") }
