package federation

import (
	"context"
	"net/http"

	vocab "github.com/go-ap/activitypub"
	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// tagLimit caps the items of a tag's collection.
const tagLimit = 200

// Tag is the IRI of the page of hashtag name (its Hashtag's href).
func (u URLs) Tag(name string) string { return u.Base() + "/tags/" + name }

// tag serves /tags/NAME, the href of every Hashtag colearn emits: for
// ActivityStreams clients an OrderedCollection of what carries the tag (the
// local courses, newest first), for browsers the tag's page
// (TagPageFunc). A name no tag can have gets 404; a tag nothing carries
// yet, an empty collection.
func (h *Handler) tag(w http.ResponseWriter, r *http.Request) {
	name, ok := courses.NormalizeTag(chi.URLParam(r, "name"))
	if !ok {
		http.Error(w, "no such tag", http.StatusNotFound)
		return
	}
	if !WantsActivityJSON(r) && h.TagPageFunc != nil {
		h.TagPageFunc(w, r, name)
		return
	}
	h.serveDoc(w, r, "tag:"+name, "no such tag", false, func(ctx context.Context) (Doc, []courses.Scope, error) {
		list, err := h.Courses.CoursesTagged(ctx, h.Courses.Pool(), name, tagLimit)
		if err != nil {
			return Doc{}, nil, err
		}
		col := vocab.OrderedCollectionNew(vocab.IRI(h.URLs.Tag(name)))
		for _, c := range list {
			col.OrderedItems = append(col.OrderedItems, vocab.IRI(h.URLs.Course(c.Slug)))
		}
		body, err := collectionJSON(col, len(list))
		return activityDoc(body, 0), []courses.Scope{courses.CataloguesScope}, err
	})
}
