package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// browsePages bounds how many pages of another instance's catalogue one
// browse reads (CataloguePageSize courses each).
const browsePages = 4

// RemoteCatalogueEntry is a course listed in another instance's published
// catalogue, as that instance describes it: for display and choosing
// only. Co-hosting it fetches the course from its own origin. The
// catalogue speaks only for its own origin's courses: of a course on
// another origin only the id is kept (ListedBy says who listed it), with
// no name or summary unless this instance fetched it itself (Here).
type RemoteCatalogueEntry struct {
	IRI, Name, Summary, Language, HostedBy string
	Tags                                   []string
	Cohosted                               bool   // the listing instance co-hosts it
	Here                                   bool   // this instance already co-hosts it
	ListedBy                               string // the catalogue's host, for a course on another origin
}

// BrowseCatalogue reads the published catalogue of another instance,
// named by its host (host[:port]) or the catalogue's URL, through the
// signed fetcher (each page must be served from its own id). Errors: an
// unknown or unreachable instance, or a document that is not a catalogue
// (a ValidationError saying which).
func (a *Actions) BrowseCatalogue(ctx context.Context, where string) ([]RemoteCatalogueEntry, string, error) {
	where = strings.TrimSpace(where)
	target := where
	if federation.Origin(where) == "" {
		if where == "" || strings.ContainsAny(where, "/?#@ ") {
			return nil, "", &courses.ValidationError{Field: "host", Message: "give a server (host or host:port) or a catalogue URL"}
		}
		target = a.urls().Scheme + "://" + where + "/catalogue"
	}
	f, ok := a.Resolver.(objectFetcher)
	if !ok {
		return nil, target, errors.New("this instance cannot fetch remote documents")
	}
	var col struct {
		Type         string            `json:"type"`
		First        json.RawMessage   `json:"first"`
		Next         string            `json:"next"`
		OrderedItems []json.RawMessage `json:"orderedItems"`
	}
	body, err := f.Object(ctx, target)
	if err == nil {
		err = json.Unmarshal(body, &col)
	}
	if err != nil || (col.Type != "OrderedCollection" && col.Type != "OrderedCollectionPage") {
		return nil, target, &courses.ValidationError{Field: "host", Message: fmt.Sprintf("no catalogue at %s: %v", target, errOr(err, "not an OrderedCollection"))}
	}
	var first string
	_ = json.Unmarshal(col.First, &first)
	items, next := capItems(col.OrderedItems), first
	for page := 0; next != "" && page < browsePages; page++ {
		if !federation.SameOrigin(next, target) {
			break
		}
		col.Next, col.OrderedItems = "", nil
		body, err := f.Object(ctx, next)
		if err == nil {
			err = json.Unmarshal(body, &col)
		}
		if err != nil {
			return nil, target, &courses.ValidationError{Field: "host", Message: fmt.Sprintf("a page of %s: %v", target, err)}
		}
		items, next = append(items, capItems(col.OrderedItems)...), col.Next
	}
	return a.catalogueEntries(ctx, items, target), target, nil
}

// capItems keeps at most a page's worth of a catalogue page's items.
func capItems(items []json.RawMessage) []json.RawMessage {
	if len(items) > federation.CataloguePageSize {
		return items[:federation.CataloguePageSize]
	}
	return items
}

// catalogueEntries reads the courses of the catalogue at target; only
// those on target's origin keep the text the catalogue gives them.
func (a *Actions) catalogueEntries(ctx context.Context, items []json.RawMessage, target string) []RemoteCatalogueEntry {
	content := a.Courses.Content()
	var out []RemoteCatalogueEntry
	for _, raw := range items {
		var it struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			Name     string `json:"name"`
			Summary  string `json:"summary"`
			Language string `json:"language"`
			HostedBy string `json:"hostedBy"`
			Cohosted bool   `json:"cohosted"`
			Tag      []struct {
				Name string `json:"name"`
			} `json:"tag"`
		}
		if json.Unmarshal(raw, &it) != nil || it.Type != "Group" || federation.Origin(it.ID) == "" || a.urls().IsLocal(it.ID) {
			continue
		}
		e := RemoteCatalogueEntry{IRI: it.ID, Name: it.Name, Summary: content.Sanitize(it.Summary), Language: it.Language,
			HostedBy: federation.Origin(it.ID), Cohosted: it.Cohosted}
		for _, t := range it.Tag {
			if len(e.Tags) < 20 {
				e.Tags = append(e.Tags, strings.TrimPrefix(t.Name, "#"))
			}
		}
		if !federation.SameOrigin(it.ID, target) {
			// Not the catalogue's to describe: no text until fetched.
			e = RemoteCatalogueEntry{IRI: it.ID, HostedBy: e.HostedBy, Cohosted: it.Cohosted, ListedBy: iriHost(target)}
		}
		if cc, err := a.Courses.Cohosted(ctx, a.Pool, it.ID); err == nil {
			e.Here = true
			if e.ListedBy != "" { // what this instance fetched itself
				e.Name, e.Summary, e.Language, e.Tags = cc.Name, cc.Summary, cc.Language, cc.Tags
			}
		}
		if e.Name == "" {
			e.Name = it.ID
		}
		out = append(out, e)
	}
	return out
}

func errOr(err error, msg string) string {
	if err != nil {
		return err.Error()
	}
	return msg
}
