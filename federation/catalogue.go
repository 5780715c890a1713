package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/colearn/colearn/courses"
)

// CataloguePageSize is how many courses a page of the published catalogue
// holds; CatalogueMaxPage bounds how deep it may be paged.
const (
	CataloguePageSize = 50
	CatalogueMaxPage  = 200
)

// catalogueContext declares the terms the catalogue's items carry.
var catalogueContext = []any{
	"https://www.w3.org/ns/activitystreams",
	map[string]any{
		"colearn":   Namespace,
		"Hashtag":   "as:Hashtag",
		"members":   "colearn:members",
		"cohosted":  "colearn:cohosted",
		"hostedBy":  map[string]any{"@id": "colearn:hostedBy", "@type": "@id"},
		"licence":   map[string]any{"@id": "colearn:licence", "@type": "@id"},
		"modules":   map[string]any{"@id": "colearn:modules", "@type": "@id"},
		"catalogue": map[string]any{"@id": "colearn:catalogue", "@type": "@id"},
	},
}

// CatalogueIRI is the id of the instance's published catalogue.
func (u URLs) CatalogueIRI() string { return u.Base() + "/catalogue" }

// catalogue serves the catalogue as an OrderedCollection of course Groups
// (local and co-hosted, newest first) with the metadata a browsing admin
// needs inline; ?page=N (from 1) gives its pages. Receivers take the
// inline metadata for display only: a course is what its own origin
// serves at its id.
func (h *Handler) catalogue(w http.ResponseWriter, r *http.Request) {
	if !WantsActivityJSON(r) {
		http.Redirect(w, r, "/courses", http.StatusSeeOther)
		return
	}
	pageParam := r.URL.Query().Get("page")
	page := 0
	if pageParam != "" {
		n, err := strconv.Atoi(pageParam)
		if err != nil || n < 1 || n > CatalogueMaxPage || strconv.Itoa(n) != pageParam {
			http.Error(w, fmt.Sprintf("page must be a number from 1 to %d", CatalogueMaxPage), http.StatusBadRequest)
			return
		}
		page = n
	}
	h.serveDoc(w, r, "catalogue:"+strconv.Itoa(page), "no catalogue", false, func(ctx context.Context) (Doc, []courses.Scope, error) {
		body, err := h.renderCatalogue(ctx, page)
		return activityDoc(body, 0), []courses.Scope{courses.CataloguesScope}, err
	})
}

func (h *Handler) renderCatalogue(ctx context.Context, page int) ([]byte, error) {
	id := h.URLs.CatalogueIRI()
	total, err := h.Courses.CatalogueSize(ctx)
	if err != nil {
		return nil, err
	}
	doc := map[string]any{"@context": catalogueContext, "totalItems": total}
	if page == 0 {
		doc["id"], doc["type"], doc["first"] = id, "OrderedCollection", id+"?page=1"
		doc["attributedTo"] = h.URLs.InstanceActor()
		return json.Marshal(doc)
	}
	list, err := h.Courses.Catalogue(ctx, courses.CatalogueQuery{}, h.URLs.Base(), CataloguePageSize+1, (page-1)*CataloguePageSize)
	if err != nil {
		return nil, err
	}
	doc["id"], doc["type"], doc["partOf"] = fmt.Sprintf("%s?page=%d", id, page), "OrderedCollectionPage", id
	if len(list) > CataloguePageSize && page < CatalogueMaxPage {
		list = list[:CataloguePageSize]
		doc["next"] = fmt.Sprintf("%s?page=%d", id, page+1)
	}
	if page > 1 {
		doc["prev"] = fmt.Sprintf("%s?page=%d", id, page-1)
	}
	items := make([]map[string]any, 0, len(list))
	for _, e := range list {
		items = append(items, h.catalogueItem(e))
	}
	doc["orderedItems"] = items
	return json.Marshal(doc)
}

// catalogueItem is one course of the catalogue: a Group with its name,
// summary (HTML), language and tags; a co-hosted course names its host.
func (h *Handler) catalogueItem(e courses.CatalogueEntry) map[string]any {
	item := map[string]any{"id": e.IRI, "type": "Group", "name": e.Title, "language": e.Language, "cohosted": e.Cohosted}
	tags := make([]map[string]any, 0, len(e.Tags))
	for _, t := range e.Tags {
		tags = append(tags, map[string]any{"type": "Hashtag", "name": "#" + t})
	}
	item["tag"] = tags
	if e.Cohosted {
		item["summary"] = e.Summary
		item["hostedBy"] = Origin(e.IRI)
		if name, _, ok := strings.Cut(strings.TrimPrefix(e.Handle, "@"), "@"); ok {
			item["preferredUsername"] = name
		}
		return item
	}
	item["summary"] = h.Courses.Content().Markdown(e.Summary)
	item["preferredUsername"] = e.Slug
	item["url"] = e.IRI
	item["members"] = e.Members
	item["modules"] = e.IRI + "/modules"
	item["hostedBy"] = h.URLs.Base()
	return item
}
