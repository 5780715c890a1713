package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// PageSize is how many activities one outbox collection page holds.
const PageSize = 20

const activityStreams = "https://www.w3.org/ns/activitystreams"

type orderedCollection struct {
	Context    string `json:"@context"`
	ID         string `json:"id"`
	Type       string `json:"type"`
	TotalItems int64  `json:"totalItems"`
	First      string `json:"first"`
}

type orderedCollectionPage struct {
	Context      string            `json:"@context"`
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	PartOf       string            `json:"partOf"`
	Next         string            `json:"next,omitempty"`
	Prev         string            `json:"prev,omitempty"`
	OrderedItems []json.RawMessage `json:"orderedItems"`
}

// Collection serves GET {actorIRI}/outbox: the actor's public activities,
// newest first, as an ActivityStreams OrderedCollection whose first page is
// ?page=1. Pages are ?page=N (1-based) or ?before=SEQ; every page's next
// link is a ?before= link, so a crawler walks the whole outbox with index
// lookups only. A malformed page parameter is a 400; a database failure a
// 500.
//
//	r.Get("/users/{name}/outbox", func(w http.ResponseWriter, r *http.Request) {
//		ob.Collection(w, r, urls.User(chi.URLParam(r, "name")))
//	})
func (o *Outbox) Collection(w http.ResponseWriter, r *http.Request, actorIRI string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := actorIRI + "/outbox"
	q := r.URL.Query()
	ctx := r.Context()
	var doc any
	var err error
	switch {
	case q.Has("before"):
		before, perr := strconv.ParseInt(q.Get("before"), 10, 64)
		if perr != nil || before < 1 {
			http.Error(w, "before must be a positive integer", http.StatusBadRequest)
			return
		}
		doc, err = o.page(ctx, actorIRI, id, fmt.Sprintf("%s?before=%d", id, before), before, 0)
	case q.Has("page"):
		n, perr := strconv.ParseInt(q.Get("page"), 10, 64)
		if perr != nil || n < 1 || n > 1<<40 {
			http.Error(w, "page must be a positive integer", http.StatusBadRequest)
			return
		}
		var p *orderedCollectionPage
		p, err = o.page(ctx, actorIRI, id, fmt.Sprintf("%s?page=%d", id, n), 0, (n-1)*PageSize)
		if p != nil && n > 1 {
			p.Prev = fmt.Sprintf("%s?page=%d", id, n-1)
		}
		doc = p
	default:
		c := orderedCollection{Context: activityStreams, ID: id, Type: "OrderedCollection", First: id + "?page=1"}
		err = o.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_activities WHERE actor_iri = $1 AND public`, actorIRI).Scan(&c.TotalItems)
		doc = c
	}
	if err != nil {
		o.log.ErrorContext(ctx, "outbox collection", "actor", actorIRI, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	body, err := json.Marshal(doc)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/activity+json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// page reads one page of actorIRI's public activities, newest first: those
// with seq below before (when before > 0), else the page at offset.
func (o *Outbox) page(ctx context.Context, actorIRI, collectionID, pageID string, before, offset int64) (*orderedCollectionPage, error) {
	var rows pgx.Rows
	var err error
	if before > 0 {
		rows, err = o.pool.Query(ctx, `
			SELECT seq, body FROM outbox_activities
			WHERE actor_iri = $1 AND public AND seq < $2
			ORDER BY seq DESC LIMIT $3`, actorIRI, before, PageSize+1)
	} else {
		rows, err = o.pool.Query(ctx, `
			SELECT seq, body FROM outbox_activities
			WHERE actor_iri = $1 AND public
			ORDER BY seq DESC LIMIT $2 OFFSET $3`, actorIRI, PageSize+1, offset)
	}
	if err != nil {
		return nil, fmt.Errorf("outbox page of %s: %w", actorIRI, err)
	}
	type item struct {
		Seq  int64
		Body string
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[item])
	if err != nil {
		return nil, fmt.Errorf("outbox page of %s: %w", actorIRI, err)
	}
	p := &orderedCollectionPage{Context: activityStreams, ID: pageID, Type: "OrderedCollectionPage", PartOf: collectionID, OrderedItems: []json.RawMessage{}}
	if len(items) > PageSize {
		items = items[:PageSize]
		p.Next = fmt.Sprintf("%s?before=%d", collectionID, items[PageSize-1].Seq)
	}
	for _, it := range items {
		p.OrderedItems = append(p.OrderedItems, json.RawMessage(it.Body))
	}
	return p, nil
}
