package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// objectFetcher fetches a remote document from its origin, signed by the
// instance actor (*federation.Resolver is one).
type objectFetcher interface {
	Object(ctx context.Context, iri string) ([]byte, error)
}

// RemoteModule is a module of a remote course as its origin serves it.
type RemoteModule struct {
	IRI      string
	ID       int64
	Position int
	Revision int
	Title    string
	// Summary is the Article's summary as plain text: the authors' own,
	// or (when they gave none) an excerpt of the body the course made.
	Summary string
	Body    string   // the Markdown source
	Authors []string // attributedTo: the IRIs of everyone who wrote a revision
	Updated string   // when the current revision was made (RFC 3339), if after the first
}

// RemoteSyllabus reads a remote course (handle or IRI) and its live
// modules from the course's origin. Modules served from another origin, or
// not Articles of the course, are refused: the course's origin alone
// speaks for its syllabus. The modules are fetched a few at a time, at
// most MaxRemoteModules of them; any module that cannot be had fails the
// whole syllabus.
func (a *Actions) RemoteSyllabus(ctx context.Context, course string) (federation.RemoteActor, []RemoteModule, error) {
	ra, err := a.resolve(ctx, course)
	if err != nil {
		return ra, nil, fmt.Errorf("course %s: %w", course, err)
	}
	if ra.Type != "Group" {
		return ra, nil, &courses.ValidationError{Field: "course", Message: ra.Handle() + " is not a course"}
	}
	f, ok := a.Resolver.(objectFetcher)
	if !ok {
		return ra, nil, errors.New("this instance cannot fetch remote documents")
	}
	body, err := f.Object(ctx, ra.IRI+"/modules")
	if err != nil {
		return ra, nil, fmt.Errorf("the syllabus of %s: %w", ra.IRI, err)
	}
	var col struct {
		OrderedItems []string `json:"orderedItems"`
	}
	if err := json.Unmarshal(body, &col); err != nil {
		return ra, nil, fmt.Errorf("the syllabus of %s: %w", ra.IRI, err)
	}
	if len(col.OrderedItems) > MaxRemoteModules {
		return ra, nil, fmt.Errorf("the syllabus of %s lists %d modules, more than the %d read from another server: %w",
			ra.IRI, len(col.OrderedItems), MaxRemoteModules, ErrSyllabusTooLong)
	}
	out := make([]RemoteModule, len(col.OrderedItems))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(remoteModuleFetches)
	for i, iri := range col.OrderedItems {
		g.Go(func() error {
			m, err := a.RemoteModule(gctx, ra.IRI, iri)
			out[i] = m
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return ra, nil, err
	}
	return ra, out, nil
}

// MaxRemoteModules bounds the modules read from a remote course's
// syllabus (each is one fetch): a course listing more is refused with
// ErrSyllabusTooLong rather than fetched without end.
const MaxRemoteModules = 500

// remoteModuleFetches is how many of a remote syllabus's modules are
// fetched at once.
const remoteModuleFetches = 4

// ErrSyllabusTooLong means a remote course lists more than
// MaxRemoteModules modules.
var ErrSyllabusTooLong = errors.New("the syllabus is too long to read from another server")

// RemoteModule fetches module iri of remote course courseIRI from the
// course's origin.
func (a *Actions) RemoteModule(ctx context.Context, courseIRI, iri string) (RemoteModule, error) {
	if !federation.SameOrigin(iri, courseIRI) {
		return RemoteModule{}, fmt.Errorf("module %s is not on the course's server", iri)
	}
	f, ok := a.Resolver.(objectFetcher)
	if !ok {
		return RemoteModule{}, errors.New("this instance cannot fetch remote documents")
	}
	body, err := f.Object(ctx, iri)
	if err != nil {
		return RemoteModule{}, fmt.Errorf("module %s: %w", iri, err)
	}
	var doc struct {
		ID       string          `json:"id"`
		Type     string          `json:"type"`
		Name     string          `json:"name"`
		Context  string          `json:"context"`
		Position int             `json:"position"`
		Revision int             `json:"revision"`
		Summary  string          `json:"summary"`
		Updated  string          `json:"updated"`
		Authors  json.RawMessage `json:"attributedTo"`
		Source   struct {
			Content string `json:"content"`
		} `json:"source"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Type != "Article" || doc.Context != courseIRI || doc.ID != iri {
		return RemoteModule{}, fmt.Errorf("module %s is not an Article of %s", iri, courseIRI)
	}
	id, _ := strconv.ParseInt(iri[strings.LastIndex(iri, "/")+1:], 10, 64)
	return RemoteModule{IRI: iri, ID: id, Position: doc.Position, Revision: doc.Revision, Title: doc.Name, Body: doc.Source.Content,
		Summary: plainSummary(doc.Summary), Authors: iris(doc.Authors), Updated: doc.Updated}, nil
}

// plainSummary turns a module's summary back into plain text: colearn
// sends it as plain text (older colearn sent one escaped paragraph, which
// is unwrapped); anything with other markup (from another implementation)
// gives "".
func plainSummary(s string) string {
	if inner, ok := strings.CutPrefix(s, "<p>"); ok {
		if inner, ok = strings.CutSuffix(inner, "</p>"); ok {
			s = inner
		}
	}
	if strings.ContainsAny(s, "<>") {
		return ""
	}
	return html.UnescapeString(s)
}

// iris reads a property given as one IRI or a list of them.
func iris(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}
