package federation

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	vocab "github.com/go-ap/activitypub"
	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// RenderCourse renders a local course's Group actor with its current
// owner and moderators, then the co-authors holding grants, as attributedTo.
func RenderCourse(ctx context.Context, u URLs, store *courses.Store, q courses.Querier, keys *KeyStore, c courses.Course) ([]byte, error) {
	kp, err := keys.Get(ctx, c.Slug)
	if err != nil {
		return nil, err
	}
	members, err := store.Members(ctx, q, c.ID)
	if err != nil {
		return nil, err
	}
	var authors []string
	for _, m := range members {
		if m.State == courses.StateAccepted && (m.Role == courses.RoleOwner || m.Role == courses.RoleModerator) {
			authors = append(authors, m.ActorIRI)
		}
	}
	granted, err := store.GrantedAuthors(ctx, q, c.ID) // co-authors on other servers
	if err != nil {
		return nil, err
	}
	authors = append(authors, granted...)
	return u.CourseDocument(CourseActor{
		Course: c, SummaryHTML: store.Content().Markdown(c.Summary), Keys: kp, AttributedTo: authors,
	})
}

func (h *Handler) course(w http.ResponseWriter, r *http.Request) (courses.Course, bool) {
	c, err := h.Courses.CourseBySlug(r.Context(), chi.URLParam(r, "slug"))
	if errors.Is(err, courses.ErrNotFound) {
		http.Error(w, "no such course", http.StatusNotFound)
		return c, false
	}
	if err != nil {
		h.serverError(w, r, err)
		return c, false
	}
	return c, true
}

func (h *Handler) courseActor(w http.ResponseWriter, r *http.Request) {
	if !WantsActivityJSON(r) && h.CoursePageFunc != nil {
		h.CoursePageFunc(w, r, chi.URLParam(r, "slug"))
		return
	}
	c, ok := h.course(w, r)
	if !ok {
		return
	}
	doc, err := RenderCourse(r.Context(), h.URLs, h.Courses, h.Courses.Pool(), h.Keys, c)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	writeActivityJSON(w, http.StatusOK, doc)
}

// followersPageSize is how many members one page of a followers
// collection lists.
const followersPageSize = 50

// courseFollowers serves a course's members as a paged OrderedCollection:
// the collection carries totalItems and links to its first page; ?page=N
// lists members in the order they joined.
func (h *Handler) courseFollowers(w http.ResponseWriter, r *http.Request) {
	c, ok := h.course(w, r)
	if !ok {
		return
	}
	members, err := h.Courses.Members(r.Context(), h.Courses.Pool(), c.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var iris []string
	for _, m := range members {
		if m.State == courses.StateAccepted {
			iris = append(iris, m.ActorIRI)
		}
	}
	id := Followers(h.URLs.Course(c.Slug))
	writeCollection(w, r, id, iris, followersPageSize)
}

func (h *Handler) courseFollowing(w http.ResponseWriter, r *http.Request) {
	c, ok := h.course(w, r)
	if !ok {
		return
	}
	writeCollection(w, r, h.URLs.Course(c.Slug)+"/following", nil, followersPageSize)
}

// writeCollection serves iris as an OrderedCollection, or one page of it
// when ?page=N (from 1) is asked for.
func writeCollection(w http.ResponseWriter, r *http.Request, id string, iris []string, size int) {
	pageParam := r.URL.Query().Get("page")
	if pageParam == "" {
		c := vocab.OrderedCollectionNew(vocab.IRI(id))
		c.TotalItems = uint(len(iris))
		c.First = vocab.IRI(id + "?page=1")
		writeCollectionJSON(w, c, len(iris))
		return
	}
	n, err := strconv.Atoi(pageParam)
	if err != nil || n < 1 {
		http.Error(w, "page must be a positive number", http.StatusBadRequest)
		return
	}
	p := vocab.OrderedCollectionPageNew(vocab.OrderedCollectionNew(vocab.IRI(id)))
	p.ID = vocab.IRI(id + "?page=" + strconv.Itoa(n))
	p.PartOf = vocab.IRI(id)
	start := (n - 1) * size
	for i := start; i < len(iris) && i < start+size; i++ {
		p.OrderedItems = append(p.OrderedItems, vocab.IRI(iris[i]))
	}
	if start+size < len(iris) {
		p.Next = vocab.IRI(id + "?page=" + strconv.Itoa(n+1))
	}
	if n > 1 {
		p.Prev = vocab.IRI(id + "?page=" + strconv.Itoa(n-1))
	}
	writeCollectionJSON(w, p, len(iris))
}

// writeCollectionJSON serves a collection or page with its totalItems,
// which go-ap leaves out when it is 0.
func writeCollectionJSON(w http.ResponseWriter, v vocab.Item, total int) {
	body, err := vocab.MarshalJSON(v)
	if err == nil {
		body, err = withContext(body, "https://www.w3.org/ns/activitystreams", map[string]any{"totalItems": total})
	}
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeActivityJSON(w, http.StatusOK, body)
}

// post serves a post written on this instance as a Note or Article, and a
// deleted one as a Tombstone with 410 Gone.
func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	iri := h.URLs.Post(chi.URLParam(r, "id"))
	p, err := h.Courses.PostByIRI(r.Context(), h.Courses.Pool(), iri)
	if errors.Is(err, courses.ErrNotFound) {
		http.Error(w, "no such post", http.StatusNotFound)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if !WantsActivityJSON(r) {
		target := p.CourseIRI
		if _, local := h.URLs.CourseSlug(p.CourseIRI); local {
			target += "#post-" + strconv.FormatInt(p.Seq, 10)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	if p.Deleted {
		body, _ := Document(&vocab.Tombstone{ID: vocab.IRI(p.IRI), Type: vocab.TombstoneType, Deleted: p.Updated})
		writeActivityJSON(w, http.StatusGone, body)
		return
	}
	body, err := Document(PostObject(p))
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	writeActivityJSON(w, http.StatusOK, body)
}
