package federation

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// userFollowers serves the remote actors following a local user, paged
// like a course's followers (followers_page.go): the collection carries
// totalItems and links to ?page=1; each page lists followers in the order
// they followed and links onwards by keyset. ?page=N for N > 1, and an
// after= that is no position, get 400.
func (h *Handler) userFollowers(w http.ResponseWriter, r *http.Request) {
	fq, ok := parseFollowersQuery(w, r)
	if !ok {
		return
	}
	name := chi.URLParam(r, "name")
	key := "followers:user:" + strings.ToLower(name) + fq.cacheKey()
	h.serveDoc(w, r, key, "no such actor", false, func(ctx context.Context) (Doc, []courses.Scope, error) {
		u, err := h.Courses.UserByUsername(ctx, name)
		if err != nil {
			return Doc{}, nil, err
		}
		scopes := []courses.Scope{courses.UserScope(u.Username)}
		total, err := h.Courses.UserFollowerCount(ctx, h.Courses.Pool(), u.ID)
		if err != nil {
			return Doc{}, nil, err
		}
		body, err := followersDoc(Followers(h.URLs.User(u.Username)), total, fq, func(after *courses.MemberCursor) ([]string, *courses.MemberCursor, error) {
			followers, next, err := h.Courses.UserFollowersPage(ctx, h.Courses.Pool(), u.ID, after, followersPageSize)
			iris := make([]string, 0, len(followers))
			for _, f := range followers {
				iris = append(iris, f.ActorIRI)
			}
			return iris, next, err
		})
		return activityDoc(body, 0), scopes, err
	})
}
