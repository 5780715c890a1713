package federation

import (
	"context"
	"net/http"

	vocab "github.com/go-ap/activitypub"
	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// replies serves the replies collection of a post written here: an
// OrderedCollection of the IRIs of the live replies this instance stores,
// oldest first (courses.Replies), so that Mastodon and GoToSocial can fetch
// the thread. A post that is not ours, or deleted, has none (404).
func (h *Handler) replies(w http.ResponseWriter, r *http.Request) {
	iri := h.URLs.Post(chi.URLParam(r, "id"))
	h.serveDoc(w, r, "replies:"+iri, "no such post", false, func(ctx context.Context) (Doc, []courses.Scope, error) {
		p, err := h.Courses.PostByIRI(ctx, h.Courses.Pool(), iri)
		if err != nil {
			return Doc{}, nil, err
		}
		scopes := []courses.Scope{courses.PostScope(iri), courses.RepliesScope(iri)}
		if p.Deleted || !p.Local {
			return Doc{}, scopes, courses.ErrNotFound
		}
		items, total, err := h.Courses.Replies(ctx, h.Courses.Pool(), iri)
		if err != nil {
			return Doc{}, nil, err
		}
		c := vocab.OrderedCollectionNew(vocab.IRI(Replies(iri)))
		c.AttributedTo = vocab.IRI(p.AuthorIRI)
		for _, it := range items {
			c.OrderedItems = append(c.OrderedItems, vocab.IRI(it))
		}
		body, err := collectionJSON(c, total)
		return activityDoc(body, 0), scopes, err
	})
}
