package federation

import (
	"net/http"
	"net/url"
	"strconv"

	vocab "github.com/go-ap/activitypub"

	"github.com/colearn/colearn/courses"
)

// followersPageSize is how many followers one page of a followers
// collection lists.
const followersPageSize = 50

// followersQuery is what a GET of a followers collection asks for: the
// collection itself, or its first page (?page=1), or the page after a
// keyset position (?page=1&after=CURSOR).
type followersQuery struct {
	paged      bool
	after      *courses.MemberCursor
	afterParam string
}

// parseFollowersQuery reads r's query, answering 400 (and false) to
// ?page=N for N > 1 and to an after= that is no position.
func parseFollowersQuery(w http.ResponseWriter, r *http.Request) (followersQuery, bool) {
	q := r.URL.Query()
	fq := followersQuery{afterParam: q.Get("after")}
	if fq.afterParam != "" {
		c, err := parseMemberCursor(fq.afterParam)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return fq, false
		}
		fq.after = &c
	}
	page := q.Get("page")
	if page != "" && page != "1" {
		http.Error(w, "page must be 1; later pages are reached by their after= links", http.StatusBadRequest)
		return fq, false
	}
	fq.paged = page != "" || fq.after != nil
	return fq, true
}

// cacheKey is the part of a document cache key that names what q asks for.
func (q followersQuery) cacheKey() string {
	return "?" + strconv.FormatBool(q.paged) + "&" + q.afterParam
}

// followersDoc renders the followers collection id of total followers, or
// the page q asks for, whose actor IRIs and next position page returns (it
// loads at most followersPageSize of them after the given position).
func followersDoc(id string, total int, q followersQuery, page func(after *courses.MemberCursor) ([]string, *courses.MemberCursor, error)) ([]byte, error) {
	if !q.paged {
		col := vocab.OrderedCollectionNew(vocab.IRI(id))
		col.First = vocab.IRI(id + "?page=1")
		return collectionJSON(col, total)
	}
	actors, next, err := page(q.after)
	if err != nil {
		return nil, err
	}
	p := vocab.OrderedCollectionPageNew(vocab.OrderedCollectionNew(vocab.IRI(id)))
	p.ID = vocab.IRI(id + "?page=1")
	if q.afterParam != "" {
		p.ID = vocab.IRI(id + "?page=1&after=" + url.QueryEscape(q.afterParam))
	}
	p.PartOf = vocab.IRI(id)
	for _, a := range actors {
		p.OrderedItems = append(p.OrderedItems, vocab.IRI(a))
	}
	if next != nil {
		p.Next = vocab.IRI(id + "?page=1&after=" + url.QueryEscape(formatMemberCursor(*next)))
	}
	return collectionJSON(p, total)
}
