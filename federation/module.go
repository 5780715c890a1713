package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	vocab "github.com/go-ap/activitypub"
	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// Syllabus is the IRI of a local course's modules: an OrderedCollection of
// its live modules' Articles, in order.
func (u URLs) Syllabus(slug string) string { return u.Course(slug) + "/modules" }

// ModuleContext is the @context of module documents: ActivityStreams plus
// colearn's terms (FEDERATION.md, "The syllabus").
var ModuleContext = []any{
	"https://www.w3.org/ns/activitystreams",
	map[string]any{
		"colearn":  Namespace,
		"modules":  map[string]any{"@id": "colearn:modules", "@type": "@id"},
		"position": "colearn:position",
		"revision": "colearn:revision",
	},
}

// ModuleArticle is what a module's Article is made of.
type ModuleArticle struct {
	CourseIRI string
	Module    courses.Module
	// ContentHTML is the rendered, sanitised body (courses.Content).
	ContentHTML string
	// Summary is plain text: the module's summary, or an excerpt of its
	// body, so that Mastodon (which shows an Article as its title, summary
	// and link) shows words, not a bare title.
	Summary string
	// Authors are the IRIs of everyone who wrote a revision.
	Authors []string
}

// ModuleObject is the ActivityStreams form of a live module: an Article
// attributed to its authors, with context and audience the course, public
// and copied to the course's followers, so that Mastodon shows it (title,
// summary and link) in the followers' home timelines.
func (u URLs) ModuleObject(ma ModuleArticle) *vocab.Object {
	m := ma.Module
	slug, _ := u.CourseSlug(ma.CourseIRI)
	iri := u.Module(slug, m.ID)
	o := vocab.ObjectNew(vocab.ArticleType)
	o.ID = vocab.IRI(iri)
	o.Name = vocab.DefaultNaturalLanguageValue(m.Title)
	if ma.Summary != "" {
		o.Summary = vocab.DefaultNaturalLanguageValue(ma.Summary)
	}
	o.Content = vocab.DefaultNaturalLanguageValue(ma.ContentHTML)
	o.MediaType = "text/html"
	o.Source = vocab.Source{Content: vocab.DefaultNaturalLanguageValue(m.Body), MediaType: "text/markdown"}
	var authors vocab.ItemCollection
	for _, a := range ma.Authors {
		authors = append(authors, vocab.IRI(a))
	}
	if len(authors) > 0 {
		o.AttributedTo = authors
	}
	o.Context = vocab.IRI(ma.CourseIRI)
	o.Audience = vocab.ItemCollection{vocab.IRI(ma.CourseIRI)}
	o.To = vocab.ItemCollection{vocab.PublicNS}
	o.CC = vocab.ItemCollection{vocab.IRI(Followers(ma.CourseIRI))}
	o.URL = vocab.IRI(iri)
	o.Published = m.CreatedAt.UTC().Truncate(time.Second)
	if m.Revision > 1 {
		o.Updated = m.UpdatedAt.UTC().Truncate(time.Second)
	}
	if m.EstimatedMinutes > 0 {
		o.Duration = time.Duration(m.EstimatedMinutes) * time.Minute
	}
	for _, l := range m.Links {
		link := vocab.LinkNew("", vocab.LinkType)
		link.Href = vocab.IRI(l.URL)
		if l.Title != "" {
			link.Name = vocab.DefaultNaturalLanguageValue(l.Title)
		}
		o.Attachment = appendItem(o.Attachment, link)
	}
	for _, a := range m.Attachments {
		doc := vocab.ObjectNew(vocab.DocumentType)
		doc.URL = vocab.IRI(a.URL)
		if a.Name != "" {
			doc.Name = vocab.DefaultNaturalLanguageValue(a.Name)
		}
		doc.MediaType = vocab.MimeType(a.MediaType)
		o.Attachment = appendItem(o.Attachment, doc)
	}
	return o
}

func appendItem(to vocab.Item, it vocab.Item) vocab.Item {
	col, _ := to.(vocab.ItemCollection)
	return append(col, it)
}

// ModuleDocument renders a module's Article as JSON-LD, with its place in
// the syllabus and its revision number.
func (u URLs) ModuleDocument(ma ModuleArticle) ([]byte, error) {
	return u.moduleJSON(u.ModuleObject(ma), ma.Module)
}

func (u URLs) moduleJSON(o *vocab.Object, m courses.Module) ([]byte, error) {
	body, err := vocab.MarshalJSON(o)
	if err != nil {
		return nil, fmt.Errorf("encode module %d: %w", m.ID, err)
	}
	return withContext(body, ModuleContext, map[string]any{"position": m.Number, "revision": m.Revision})
}

// ModuleActivity renders a Create or Update of a module's Article, or a
// Delete of it (a Tombstone) when it was retired, sent by the course.
func (u URLs) ModuleActivity(id string, t vocab.ActivityVocabularyType, ma ModuleArticle) ([]byte, error) {
	var object vocab.Item
	if t == vocab.DeleteType {
		slug, _ := u.CourseSlug(ma.CourseIRI)
		object = &vocab.Tombstone{ID: vocab.IRI(u.Module(slug, ma.Module.ID)), Type: vocab.TombstoneType,
			FormerType: vocab.ArticleType, Deleted: ma.Module.UpdatedAt.UTC().Truncate(time.Second)}
	} else {
		object = u.ModuleObject(ma)
	}
	act := NewActivity(id, t, ma.CourseIRI, object, ma.CourseIRI, []string{Public}, []string{Followers(ma.CourseIRI)})
	if t != vocab.DeleteType {
		act.Published = ma.Module.UpdatedAt.UTC().Truncate(time.Second)
	}
	body, err := vocab.MarshalJSON(act)
	if err != nil {
		return nil, fmt.Errorf("encode %s of module %d: %w", t, ma.Module.ID, err)
	}
	// The embedded Article carries its own extension terms (position,
	// revision), which go-ap does not know: put the full object in.
	if t != vocab.DeleteType {
		obj, err := u.moduleJSON(object.(*vocab.Object), ma.Module)
		if err != nil {
			return nil, err
		}
		if body, err = replaceObject(body, obj); err != nil {
			return nil, fmt.Errorf("encode %s of module %d: %w", t, ma.Module.ID, err)
		}
	}
	return withContext(body, ModuleContext, nil)
}

// replaceObject puts the JSON-LD document obj (its @context dropped, the
// activity's covers it) in place of the activity's object.
func replaceObject(activity, obj []byte) ([]byte, error) {
	var a, o map[string]json.RawMessage
	if err := json.Unmarshal(activity, &a); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(obj, &o); err != nil {
		return nil, err
	}
	delete(o, "@context")
	inner, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	a["object"] = inner
	return json.Marshal(a)
}

// SummaryExcerpt is the length, in characters, of the excerpt of its body
// that a module without a summary of its own is summarised by.
const SummaryExcerpt = 300

// ArticleFor builds the ModuleArticle of module m of course c, with its
// content rendered and its authors listed.
func ArticleFor(u URLs, content *courses.Content, c courses.Course, m courses.Module, authors []courses.Author) ModuleArticle {
	summary := m.Summary
	if summary == "" {
		summary = content.Excerpt(m.Body, SummaryExcerpt)
	}
	ma := ModuleArticle{CourseIRI: u.Course(c.Slug), Module: m, ContentHTML: content.Markdown(m.Body), Summary: summary}
	for _, a := range authors {
		ma.Authors = append(ma.Authors, a.IRI)
	}
	return ma
}

// ModuleRoutes mounts a course's syllabus collection and its modules'
// documents on r: JSON for ActivityStreams clients (behind signature
// checks when AuthorizedFetch is on), and for browsers the HTML pages
// syllabusPage and modulePage.
func (h *Handler) ModuleRoutes(r chi.Router, syllabusPage, modulePage http.HandlerFunc) {
	r.Group(func(r chi.Router) {
		if h.AuthorizedFetch {
			r.Use(h.requireSignature)
		}
		r.Get("/courses/{slug}/modules", func(w http.ResponseWriter, r *http.Request) {
			if !WantsActivityJSON(r) {
				syllabusPage(w, r)
				return
			}
			h.syllabus(w, r)
		})
		r.Get("/courses/{slug}/modules/{id}", func(w http.ResponseWriter, r *http.Request) {
			if !WantsActivityJSON(r) {
				modulePage(w, r)
				return
			}
			h.module(w, r)
		})
	})
}

// maxSyllabus caps the modules listed in the collection (a course archive
// holds at most as many).
const maxSyllabus = 500

// syllabus serves a course's modules collection, kept in the document
// cache until the course changes (every module revision, reorder and
// retirement announces the course's scope).
func (h *Handler) syllabus(w http.ResponseWriter, r *http.Request) {
	key := "syllabus:" + strings.ToLower(chi.URLParam(r, "slug"))
	h.serveDoc(w, r, key, "no such course", false, h.courseDoc(r, func(ctx context.Context, c courses.Course) ([]byte, error) {
		mods, err := h.Courses.Modules(ctx, h.Courses.Pool(), c.ID)
		if err != nil {
			return nil, err
		}
		col := vocab.OrderedCollectionNew(vocab.IRI(h.URLs.Syllabus(c.Slug)))
		for i, m := range mods {
			if i == maxSyllabus {
				break
			}
			col.OrderedItems = append(col.OrderedItems, vocab.IRI(h.URLs.Module(c.Slug, m.ID)))
		}
		col.TotalItems = uint(len(mods)) // go-ap writes it; never add it twice (peers refuse duplicate keys)
		col.AttributedTo = vocab.IRI(h.URLs.Course(c.Slug))
		body, err := vocab.MarshalJSON(col)
		if err != nil {
			return nil, fmt.Errorf("encode syllabus of %s: %w", c.Slug, err)
		}
		return withContext(body, ModuleContext, map[string]any{"context": h.URLs.Course(c.Slug)})
	}))
}

func (h *Handler) module(w http.ResponseWriter, r *http.Request) {
	slug := chi.URLParam(r, "slug")
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		http.Error(w, "no such module", http.StatusNotFound)
		return
	}
	// Kept in the document cache until the course changes (every module
	// revision announces the course's scope).
	key := "module:" + strings.ToLower(slug) + "/" + strconv.FormatInt(id, 10)
	h.serveDoc(w, r, key, "no such module", false, func(ctx context.Context) (Doc, []courses.Scope, error) {
		c, err := h.Courses.CourseBySlug(ctx, slug)
		if err != nil {
			return Doc{}, nil, err
		}
		scopes := []courses.Scope{courses.CourseScope(c.ID)}
		q := h.Courses.Pool()
		m, err := h.Courses.ModuleOf(ctx, q, c.ID, id)
		if err != nil {
			return Doc{}, nil, err
		}
		if m.Retired {
			body, err := Document(&vocab.Tombstone{ID: vocab.IRI(h.URLs.Module(c.Slug, m.ID)), Type: vocab.TombstoneType,
				FormerType: vocab.ArticleType, Deleted: m.UpdatedAt.UTC().Truncate(time.Second)})
			return activityDoc(body, http.StatusGone), scopes, err
		}
		authors, err := h.Courses.ModuleAuthors(ctx, q, m.ID)
		if err != nil {
			return Doc{}, nil, err
		}
		body, err := h.URLs.ModuleDocument(ArticleFor(h.URLs, h.Courses.Content(), c, m, authors))
		d := activityDoc(body, 0)
		d.LastModified = m.UpdatedAt
		return d, scopes, err
	})
}
