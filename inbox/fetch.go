package inbox

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	vocab "github.com/go-ap/activitypub"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/federation/credential"
)

// needFetch ends an activity handler that needs a remote document it does
// not have yet. The processor rolls the handler's savepoint back, fetches
// the document with no transaction open, and applies the activity again
// (the handler then runs its authorization checks again, before it gets
// that far). Handlers only ever return it from objectOf, remoteObject,
// actorOf and verifiedCredential.
type needFetch struct {
	iri   string
	actor bool // an actor document (through the actor cache)
	fresh bool // an actor, fetched again even when cached
	// credential, when set, is a credential to verify: its issuer's key
	// and status list are fetched (iri is the credential's id).
	credential []byte
}

func (n *needFetch) Error() string { return "needs " + n.iri + " fetched" }

// fetchResult is a fetched document (an object's body, or an actor) or why
// it could not be had.
type fetchResult struct {
	body   []byte
	actor  federation.RemoteActor
	report credential.Report
	err    error
}

func fetchKey(n *needFetch) string {
	switch {
	case n.credential != nil:
		return "verify " + n.iri
	case n.fresh:
		return "actor!" + n.iri
	case n.actor:
		return "actor " + n.iri
	}
	return n.iri
}

// errHostBusy means the remote host's share of the fetch budget is in use
// by other activities; the activity is tried again shortly, without
// counting an attempt.
var errHostBusy = errors.New("remote host busy")

// fetch gets what n names, within its host's budget and FetchTimeout, and
// keeps the result (or the error, for the handler to judge) on in.
func (p *Processor) fetch(ctx context.Context, in *Incoming, n *needFetch) {
	if in.fetched == nil {
		in.fetched = map[string]fetchResult{}
	}
	release, ok := p.hosts.acquire(ctx, hostOf(n.iri))
	if !ok {
		in.fetched[fetchKey(n)] = fetchResult{err: fmt.Errorf("fetch %s: %w", n.iri, errHostBusy)}
		return
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, p.FetchTimeout)
	defer cancel()
	var r fetchResult
	func() {
		defer p.recovered(in, "fetching "+n.iri, &r.err)
		switch {
		case n.credential != nil:
			r.report = p.Badges.Verify(ctx, n.credential)
		case n.actor:
			r.actor, r.err = p.Fetcher.Actor(ctx, n.iri, n.fresh)
		default:
			r.body, r.err = p.Fetcher.Object(ctx, n.iri)
		}
	}()
	in.fetched[fetchKey(n)] = r
}

// objectOf returns the activity's object as an ActivityStreams object: the
// embedded one when it comes from the actor's own origin (the signature
// vouches for it), else the one fetched from its origin.
func (p *Processor) objectOf(ctx context.Context, in *Incoming) (*vocab.Object, error) {
	obj := in.Activity.Object
	if obj == nil {
		return nil, fmt.Errorf("%w: no object", ErrMalformed)
	}
	iri := obj.GetLink().String()
	if obj.IsObject() && federation.SameOrigin(iri, in.Actor) {
		return vocab.ToObject(obj)
	}
	return p.remoteObject(in, iri)
}

// objectEmbedded reports whether the activity's object will be taken as
// embedded, with no fetch.
func (in *Incoming) objectEmbedded() bool {
	obj := in.Activity.Object
	return obj != nil && obj.IsObject() && federation.SameOrigin(obj.GetLink().String(), in.Actor)
}

// remoteObject returns the object iri as fetched from its origin, or a
// needFetch for it.
func (p *Processor) remoteObject(in *Incoming, iri string) (*vocab.Object, error) {
	r, ok := in.fetched[iri]
	if !ok {
		return nil, &needFetch{iri: iri}
	}
	if r.err != nil {
		return nil, r.err
	}
	item, err := vocab.UnmarshalJSON(r.body)
	if err != nil || item == nil {
		return nil, fmt.Errorf("%w: object %s", ErrMalformed, iri)
	}
	return vocab.ToObject(item)
}

// actorOf returns the remote actor iri (from the actor cache, or fetched
// from its origin, again when fresh), or a needFetch for it. The resolver
// follows a document whose id names another actor to that actor's own
// origin; actorOf refuses the result unless it is iri itself, so a
// document at iri cannot make colearn credit someone else (a post stored
// under a victim's name, a victim's rows refreshed on a liar's word).
func (p *Processor) actorOf(in *Incoming, iri string, fresh bool) (federation.RemoteActor, error) {
	n := &needFetch{iri: iri, actor: true, fresh: fresh}
	r, ok := in.fetched[fetchKey(n)]
	if !ok {
		return federation.RemoteActor{}, n
	}
	if r.err == nil && r.actor.IRI != iri {
		return federation.RemoteActor{}, fmt.Errorf("actor %s is served as %s: %w", iri, r.actor.IRI, courses.ErrForbidden)
	}
	return r.actor, r.err
}

// verifiedCredential returns the verification report of the credential id
// (its bytes raw), or a needFetch, so that the issuer's key and status
// list are fetched with no transaction open.
func (p *Processor) verifiedCredential(in *Incoming, id string, raw []byte) (credential.Report, error) {
	n := &needFetch{iri: id, credential: raw}
	r, ok := in.fetched[fetchKey(n)]
	if !ok {
		return credential.Report{}, n
	}
	return r.report, r.err
}

// hostOf is the host[:port] of iri, lower-cased.
func hostOf(iri string) string {
	u, err := url.Parse(iri)
	if err != nil {
		return iri
	}
	return strings.ToLower(u.Host)
}

// hostBudget bounds the fetches running at once against each remote host,
// so that a host whose documents never answer ties up only its own share,
// never every worker.
type hostBudget struct {
	per int

	mu    sync.Mutex
	inUse map[string]int
	freed chan struct{} // closed and replaced whenever a slot frees
}

func newHostBudget(per int) *hostBudget {
	return &hostBudget{per: per, inUse: map[string]int{}, freed: make(chan struct{})}
}

// hostWait is how long a fetch waits for its host's budget before the
// activity is deferred.
const hostWait = 200 * time.Millisecond

// acquire takes one of host's slots, waiting up to hostWait; ok is false
// when none freed in time. release must be called once.
func (b *hostBudget) acquire(ctx context.Context, host string) (release func(), ok bool) {
	deadline := time.NewTimer(hostWait)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		if b.inUse[host] < b.per {
			b.inUse[host]++
			b.mu.Unlock()
			return func() { b.put(host) }, true
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-deadline.C:
			return nil, false
		case <-ctx.Done():
			return nil, false
		}
	}
}

func (b *hostBudget) put(host string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inUse[host]--; b.inUse[host] <= 0 {
		delete(b.inUse, host)
	}
	close(b.freed)
	b.freed = make(chan struct{})
}
