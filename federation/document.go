package federation

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"

	vocab "github.com/go-ap/activitypub"
	"github.com/valyala/fastjson"
)

// ErrMediaType means a remote document was not served as ActivityStreams.
var ErrMediaType = errors.New("not served as application/activity+json or ActivityStreams JSON-LD")

// ErrIdentity means a remote document's id is not the URL it was served
// from, even after fetching it by that id.
var ErrIdentity = errors.New("document id is not where it was served from")

// IsActivityMediaType reports whether a Content-Type is ActivityStreams:
// application/activity+json, or application/ld+json whose profile names
// https://www.w3.org/ns/activitystreams.
func IsActivityMediaType(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mt {
	case "application/activity+json":
		return true
	case "application/ld+json":
		for _, p := range strings.Fields(params["profile"]) {
			if p == "https://www.w3.org/ns/activitystreams" {
				return true
			}
		}
	}
	return false
}

// document is a remote ActivityStreams document that has passed the checks
// every document must: media type, one JSON object without duplicate keys,
// and an id. Every decision about it is taken from this one parse.
type document struct {
	Fetched
	ID   string
	Type string // the first type when several are given
	v    *fastjson.Value
}

// parseDocument checks f and reads its id and type. It does not compare
// the id with f.URL: identify does.
func parseDocument(f Fetched) (document, error) {
	if !IsActivityMediaType(f.ContentType) {
		return document{}, fmt.Errorf("%s: %w (got %q)", f.URL, ErrMediaType, f.ContentType)
	}
	if err := CheckJSON(f.Body); err != nil {
		return document{}, fmt.Errorf("%s: %w", f.URL, err)
	}
	v, err := fastjson.ParseBytes(f.Body)
	if err != nil {
		return document{}, fmt.Errorf("%s: %w: %v", f.URL, ErrInvalidJSON, err)
	}
	if v.Type() != fastjson.TypeObject {
		return document{}, fmt.Errorf("%s: %w: not a JSON object", f.URL, ErrInvalidJSON)
	}
	d := document{Fetched: f, ID: str(v.Get("id")), v: v}
	t := v.Get("type")
	if t != nil && t.Type() == fastjson.TypeArray {
		if items := t.GetArray(); len(items) > 0 {
			t = items[0]
		}
	}
	d.Type = str(t)
	if d.ID == "" {
		return document{}, fmt.Errorf("%s: document has no id", f.URL)
	}
	return d, nil
}

// isActor reports whether the document's type is an actor type.
func (d document) isActor() bool {
	return vocab.ActorTypes.Contains(vocab.ActivityVocabularyType(d.Type))
}

// owner is the actor a key document points to: its owner (a
// CryptographicKey) or controller (a Multikey).
func (d document) owner() string {
	if o := str(d.v.Get("owner")); o != "" {
		return o
	}
	return str(d.v.Get("controller"))
}

// sameURL reports whether id names the URL a document was served from:
// equal as written, or once both are in net/url's canonical form (a
// request percent-encodes what an id may spell in UTF-8).
func sameURL(id, served string) bool {
	if id == served {
		return true
	}
	a, err1 := url.Parse(id)
	b, err2 := url.Parse(served)
	return err1 == nil && err2 == nil && a.IsAbs() && a.String() == b.String()
}
