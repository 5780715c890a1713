package federation

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	vocab "github.com/go-ap/activitypub"
	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// RenderCourse renders a local course's Group actor document: the complete
// document a GET of the course returns, which is also what an Update of the
// Group must carry (Mastodon rebuilds the account from it). Its
// attributedTo lists the owner and moderators (at most courses.MaxStaff),
// then the co-authors on other servers holding grants;
// it never loads the roster, so it costs three small queries (key, staff,
// nothing per member) however many members the course has. q may be a
// transaction, so that an Update sent with an edit shows the edit. It fails
// when the course's keys or the database cannot be read.
func RenderCourse(ctx context.Context, u URLs, store *courses.Store, q courses.Querier, keys *KeyStore, c courses.Course) ([]byte, error) {
	kp, err := keys.Get(ctx, c.Slug)
	if err != nil {
		return nil, err
	}
	authors, err := store.Staff(ctx, q, c.ID)
	if err != nil {
		return nil, err
	}
	// co-authors on other servers, and the instances co-hosting the course
	granted, cohosts, err := store.GrantedAuthorsAndCohosts(ctx, q, c.ID)
	if err != nil {
		return nil, err
	}
	authors = append(authors, granted...)
	return u.CourseDocument(CourseActor{
		Course: c, SummaryHTML: store.Content().Markdown(c.Summary), Keys: kp, AttributedTo: authors, CohostedBy: cohosts,
	})
}

// course loads the local course named in the path, or answers 404 (500)
// and returns ok false.
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

// courseDoc renders through RenderFunc the document of the local course in
// the request's path; render gets the course.
func (h *Handler) courseDoc(r *http.Request, render func(ctx context.Context, c courses.Course) ([]byte, error)) RenderFunc {
	slug := chi.URLParam(r, "slug")
	return func(ctx context.Context) (Doc, []courses.Scope, error) {
		c, err := h.Courses.CourseBySlug(ctx, slug)
		if err != nil {
			return Doc{}, nil, err
		}
		body, err := render(ctx, c)
		return activityDoc(body, 0), []courses.Scope{courses.CourseScope(c.ID)}, err
	}
}

func (h *Handler) courseActor(w http.ResponseWriter, r *http.Request) {
	if !WantsActivityJSON(r) && h.CoursePageFunc != nil {
		h.CoursePageFunc(w, r, chi.URLParam(r, "slug"))
		return
	}
	key := "actor:course:" + strings.ToLower(chi.URLParam(r, "slug"))
	h.serveDoc(w, r, key, "no such course", false, h.courseDoc(r, func(ctx context.Context, c courses.Course) ([]byte, error) {
		return RenderCourse(ctx, h.URLs, h.Courses, h.Courses.Pool(), h.Keys, c)
	}))
}

// courseFollowers serves a course's accepted members as a paged
// OrderedCollection (followers_page.go): the collection carries totalItems
// (counted by query) and links to its first page; each page lists members
// in the order they joined and links to the next by keyset, so no page
// loads the roster.
func (h *Handler) courseFollowers(w http.ResponseWriter, r *http.Request) {
	fq, ok := parseFollowersQuery(w, r)
	if !ok {
		return
	}
	key := "followers:" + strings.ToLower(chi.URLParam(r, "slug")) + fq.cacheKey()
	h.serveDoc(w, r, key, "no such course", false, h.courseDoc(r, func(ctx context.Context, c courses.Course) ([]byte, error) {
		total, err := h.Courses.MemberCount(ctx, h.Courses.Pool(), c.ID)
		if err != nil {
			return nil, err
		}
		return followersDoc(Followers(h.URLs.Course(c.Slug)), total, fq, func(after *courses.MemberCursor) ([]string, *courses.MemberCursor, error) {
			members, next, err := h.Courses.AcceptedPage(ctx, h.Courses.Pool(), c.ID, after, followersPageSize)
			iris := make([]string, 0, len(members))
			for _, m := range members {
				iris = append(iris, m.ActorIRI)
			}
			return iris, next, err
		})
	}))
}

// formatMemberCursor encodes a followers page position for a URL.
func formatMemberCursor(c courses.MemberCursor) string {
	return strconv.FormatInt(c.JoinedAt.UnixMicro(), 10) + "." + base64.RawURLEncoding.EncodeToString([]byte(c.ActorIRI))
}

func parseMemberCursor(s string) (courses.MemberCursor, error) {
	ts, iri, ok := strings.Cut(s, ".")
	micro, err := strconv.ParseInt(ts, 10, 64)
	b, err2 := base64.RawURLEncoding.DecodeString(iri)
	if !ok || err != nil || err2 != nil || len(b) == 0 {
		return courses.MemberCursor{}, errors.New("after= is not a position in this collection")
	}
	return courses.MemberCursor{JoinedAt: time.UnixMicro(micro), ActorIRI: string(b)}, nil
}

func (h *Handler) courseFollowing(w http.ResponseWriter, r *http.Request) {
	key := "following:" + strings.ToLower(chi.URLParam(r, "slug")) + "?" + r.URL.Query().Get("page")
	h.serveDoc(w, r, key, "no such course", false, h.courseDoc(r, func(ctx context.Context, c courses.Course) ([]byte, error) {
		return emptyCollection(r, h.URLs.Course(c.Slug)+"/following")
	}))
}

// emptyCollection renders an empty OrderedCollection, or its empty first
// page when ?page= is asked for.
func emptyCollection(r *http.Request, id string) ([]byte, error) {
	if r.URL.Query().Get("page") == "" {
		c := vocab.OrderedCollectionNew(vocab.IRI(id))
		c.First = vocab.IRI(id + "?page=1")
		return collectionJSON(c, 0)
	}
	p := vocab.OrderedCollectionPageNew(vocab.OrderedCollectionNew(vocab.IRI(id)))
	p.ID = vocab.IRI(id + "?page=1")
	p.PartOf = vocab.IRI(id)
	return collectionJSON(p, 0)
}

// collectionJSON encodes a collection or page with its totalItems, once:
// go-ap writes it only for some types and values, so its own is dropped.
func collectionJSON(v vocab.Item, total int) ([]byte, error) {
	body, err := vocab.MarshalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("encode collection: %w", err)
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(body, &props); err != nil {
		return nil, fmt.Errorf("encode collection: %w", err)
	}
	delete(props, "totalItems")
	if body, err = json.Marshal(props); err != nil {
		return nil, fmt.Errorf("encode collection: %w", err)
	}
	return withContext(body, "https://www.w3.org/ns/activitystreams", map[string]any{"totalItems": total})
}

// post serves a post written on this instance as a Note or Article, and a
// deleted one as a Tombstone with 410 Gone. Browsers are sent to the post
// in its course's discussion.
func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	h.ServePost(w, r, h.URLs.Post(chi.URLParam(r, "id")))
}

// ServePost answers r with the post iri (one written on this instance) from
// the document cache: its JSON for ActivityStreams clients, with
// Last-Modified, and for browsers its page (PostPageFunc) or, without one,
// a redirect to its place in its course's discussion. Unknown posts get
// 404; deleted ones a Tombstone with 410 Gone.
func (h *Handler) ServePost(w http.ResponseWriter, r *http.Request, iri string) {
	d, err := h.Cache.Get(r.Context(), "post:"+iri, func(ctx context.Context) (Doc, []courses.Scope, error) {
		p, err := h.Courses.PostByIRI(ctx, h.Courses.Pool(), iri)
		if err != nil {
			return Doc{}, nil, err
		}
		scopes := []courses.Scope{courses.PostScope(p.IRI)}
		// Browsers go to the post in its course's discussion.
		target := p.CourseIRI
		if _, local := h.URLs.CourseSlug(p.CourseIRI); local {
			target += "#post-" + strconv.FormatInt(p.Seq, 10)
		}
		if p.Deleted {
			body, err := Document(&vocab.Tombstone{ID: vocab.IRI(p.IRI), Type: vocab.TombstoneType, Deleted: p.Updated})
			d := activityDoc(body, http.StatusGone)
			d.htmlURL = target
			return d, scopes, err
		}
		body, err := Document(PostObject(p))
		d := activityDoc(body, 0)
		d.LastModified = p.Published
		if !p.Updated.IsZero() {
			d.LastModified = p.Updated
		}
		d.htmlURL = target
		return d, scopes, err
	})
	switch {
	case errors.Is(err, courses.ErrNotFound):
		http.Error(w, "no such post", http.StatusNotFound)
	case err != nil:
		h.serverError(w, r, err)
	case !WantsActivityJSON(r) && h.PostPageFunc != nil:
		h.PostPageFunc(w, r, iri)
	case !WantsActivityJSON(r):
		w.Header().Add("Vary", "Accept")
		http.Redirect(w, r, d.htmlURL, http.StatusSeeOther)
	default:
		h.writeSigned(w, r, d)
	}
}
