package federation

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	vocab "github.com/go-ap/activitypub"
	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// userFollowers serves the remote actors following a local user, paged
// like a course's followers (courseFollowers): the collection carries
// totalItems and links to ?page=1; each page lists followersPageSize
// followers in the order they followed and links onwards by keyset
// (?page=1&after=CURSOR). ?page=N for N > 1, and an after= that is no
// position, get 400.
func (h *Handler) userFollowers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pageParam, afterParam := q.Get("page"), q.Get("after")
	var after *courses.MemberCursor
	if afterParam != "" {
		c, err := parseMemberCursor(afterParam)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		after = &c
	}
	if pageParam != "" && pageParam != "1" {
		http.Error(w, "page must be 1; later pages are reached by their after= links", http.StatusBadRequest)
		return
	}
	paged := pageParam != "" || after != nil
	name := chi.URLParam(r, "name")
	key := "followers:user:" + strings.ToLower(name) + "?" + strconv.FormatBool(paged) + "&" + afterParam
	h.serveDoc(w, r, key, "no such actor", false, func(ctx context.Context) (Doc, []courses.Scope, error) {
		u, err := h.Courses.UserByUsername(ctx, name)
		if err != nil {
			return Doc{}, nil, err
		}
		scopes := []courses.Scope{courses.UserScope(u.Username)}
		id := Followers(h.URLs.User(u.Username))
		total, err := h.Courses.UserFollowerCount(ctx, h.Courses.Pool(), u.ID)
		if err != nil {
			return Doc{}, nil, err
		}
		if !paged {
			col := vocab.OrderedCollectionNew(vocab.IRI(id))
			col.First = vocab.IRI(id + "?page=1")
			body, err := collectionJSON(col, total)
			return activityDoc(body, 0), scopes, err
		}
		followers, next, err := h.Courses.UserFollowersPage(ctx, h.Courses.Pool(), u.ID, after, followersPageSize)
		if err != nil {
			return Doc{}, nil, err
		}
		p := vocab.OrderedCollectionPageNew(vocab.OrderedCollectionNew(vocab.IRI(id)))
		p.ID = vocab.IRI(id + "?page=1")
		if afterParam != "" {
			p.ID = vocab.IRI(id + "?page=1&after=" + url.QueryEscape(afterParam))
		}
		p.PartOf = vocab.IRI(id)
		for _, f := range followers {
			p.OrderedItems = append(p.OrderedItems, vocab.IRI(f.ActorIRI))
		}
		if next != nil {
			p.Next = vocab.IRI(id + "?page=1&after=" + url.QueryEscape(formatMemberCursor(*next)))
		}
		body, err := collectionJSON(p, total)
		return activityDoc(body, 0), scopes, err
	})
}
