package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/singleflight"
)

// AcceptActivity is the Accept header for fetching ActivityStreams objects.
const AcceptActivity = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// ErrNotFound means a remote object or handle does not exist.
var ErrNotFound = errors.New("not found")

// Resolver finds remote actors by IRI, key id or @name@host, and remote
// objects by IRI, and caches actors in PostgreSQL (table remote_actors) and
// proven keys in memory. Every document it accepts was served from its own
// id with an ActivityStreams media type and has no duplicate keys; a key
// is accepted only when its owner's actor document, fetched from the
// actor's own id, lists it. Concurrent lookups of one actor or key make one
// fetch; an unresolvable key is remembered for NegativeTTL; fetches are
// rate-limited per remote host. Fetches are signed by the instance actor,
// so servers with authorized fetch (GoToSocial, Mastodon's secure mode)
// answer them.
type Resolver struct {
	pool    *pgxpool.Pool
	client  *Client
	urls    URLs
	keys    *KeyStore
	scheme  string
	flights singleflight.Group
	cache   *keyCache
	hosts   *hostLimiter
}

// ResolverOptions tune a Resolver's caches and limits; zero values take the
// defaults.
type ResolverOptions struct {
	// NegativeTTL is how long an unresolvable key id is answered from
	// memory without a fetch (default 5 minutes).
	NegativeTTL time.Duration
	// RefetchGap is the least time between two fetches of one key, so a
	// stream of bad signatures refetches it once per gap (default 1 minute).
	RefetchGap time.Duration
	// HostRate and HostBurst are each remote host's fetch budget: HostBurst
	// at once, then HostRate a second (defaults 10 and 40).
	HostRate  float64
	HostBurst int
	// HostMaxWait is how long a fetch waits for its host's budget before it
	// fails with ErrRateLimited (default 2 s).
	HostMaxWait time.Duration
	// NowFunc returns the current time (default time.Now).
	NowFunc func() time.Time
}

// maxCached bounds each in-memory cache; past it that cache restarts.
const maxCached = 50_000

// NewResolver returns a Resolver with the default options. WebFinger
// lookups use the scheme of urls (http only in development mode).
func NewResolver(pool *pgxpool.Pool, client *Client, urls URLs, keys *KeyStore) *Resolver {
	return NewResolverWith(pool, client, urls, keys, ResolverOptions{})
}

// NewResolverWith returns a Resolver with opts.
func NewResolverWith(pool *pgxpool.Pool, client *Client, urls URLs, keys *KeyStore, opts ResolverOptions) *Resolver {
	if opts.NegativeTTL == 0 {
		opts.NegativeTTL = 5 * time.Minute
	}
	if opts.RefetchGap == 0 {
		opts.RefetchGap = time.Minute
	}
	if opts.HostRate == 0 {
		opts.HostRate = 10
	}
	if opts.HostBurst == 0 {
		opts.HostBurst = 40
	}
	if opts.HostMaxWait == 0 {
		opts.HostMaxWait = 2 * time.Second
	}
	if opts.NowFunc == nil {
		opts.NowFunc = time.Now
	}
	return &Resolver{
		pool: pool, client: client, urls: urls, keys: keys, scheme: urls.Scheme,
		cache: newKeyCache(opts.NowFunc, opts.NegativeTTL, opts.RefetchGap, maxCached),
		hosts: newHostLimiter(opts.HostRate, opts.HostBurst, opts.HostMaxWait, maxCached),
	}
}

// instanceSigner signs fetches as the instance actor.
func (r *Resolver) instanceSigner(ctx context.Context) (*Signer, error) {
	kp, err := r.keys.Get(ctx, "")
	if err != nil {
		return nil, err
	}
	return &Signer{KeyID: MainKey(r.urls.InstanceActor()), Key: kp.RSA}, nil
}

// ErrKeyUnavailable means a key could not be resolved, or was recently
// found unresolvable and is not fetched again yet.
var ErrKeyUnavailable = errors.New("key unavailable")

// ResolveKey returns the key keyID names and the actor who owns it: from
// memory, from a stored actor whose id the key id is under (actor#frag, or
// actor/name for GoToSocial), or fetched. With refresh it fetches afresh,
// but at most once per key per RefetchGap; within the gap it answers the
// key it has. Local keys are read from the KeyStore directly. An
// unresolvable key is ErrKeyUnavailable for NegativeTTL.
func (r *Resolver) ResolveKey(ctx context.Context, keyID string, refresh bool) (PublicKey, error) {
	if r.urls.IsLocal(keyID) {
		return r.localKey(ctx, keyID)
	}
	cached, have := r.cache.get(keyID)
	if !refresh && have {
		return cached, nil
	}
	if r.cache.failed(keyID) {
		return PublicKey{}, fmt.Errorf("key %s: %w (remembered)", keyID, ErrKeyUnavailable)
	}
	if !refresh {
		k, ok, err := r.storedKey(ctx, keyID)
		if err != nil {
			return PublicKey{}, err
		}
		if ok {
			r.cache.remember(k)
			return k, nil
		}
	}
	if refresh && !r.cache.mayFetch(keyID) {
		if have {
			return cached, nil
		}
		return PublicKey{}, fmt.Errorf("key %s: %w (fetched moments ago)", keyID, ErrKeyUnavailable)
	}
	// Concurrent lookups share one fetch, and its outcome is remembered
	// before any of them returns, so none starts another.
	v, err, _ := r.flights.Do("key "+keyID, func() (any, error) {
		r.cache.fetching(keyID)
		k, err := r.fetchKey(ctx, keyID)
		if err != nil {
			if ctx.Err() == nil {
				r.cache.fail(keyID)
			}
			return nil, err
		}
		r.cache.remember(k)
		return k, nil
	})
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: %w", ErrKeyUnavailable, err)
	}
	return v.(PublicKey), nil
}

// keyOwnerCandidates are the actor ids a key id sits under: without its
// fragment (Mastodon's actor#main-key), and for a key id without a fragment
// its parent path (GoToSocial's actor/main-key).
func keyOwnerCandidates(keyID string) []string {
	base, _, hasFragment := strings.Cut(keyID, "#")
	out := []string{base}
	if !hasFragment {
		if i := strings.LastIndexByte(base, '/'); i > len(Origin(base)) {
			out = append(out, base[:i])
		}
	}
	return out
}

// storedKey finds keyID in a stored actor that the key id sits under and
// that lists it. A stored actor elsewhere that merely lists the key id
// proves nothing about it.
func (r *Resolver) storedKey(ctx context.Context, keyID string) (PublicKey, bool, error) {
	rows, err := r.pool.Query(ctx, `SELECT iri, document FROM remote_actors
		WHERE iri = ANY($1) AND fetched_at > now() - interval '1 day'`, keyOwnerCandidates(keyID))
	if err != nil {
		return PublicKey{}, false, fmt.Errorf("stored key %s: %w", keyID, err)
	}
	type row struct {
		IRI string
		Doc []byte
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return PublicKey{}, false, fmt.Errorf("stored key %s: %w", keyID, err)
	}
	for _, f := range found {
		a, err := ParseActor(f.Doc, f.IRI)
		if err != nil {
			continue
		}
		if k, ok := a.ListsKey(keyID); ok {
			return PublicKey{ID: k.ID, Owner: a.IRI, Key: k.Key}, true, nil
		}
	}
	return PublicKey{}, false, nil
}

// fetchKey proves who owns keyID. The document at the key id (without its
// fragment), once it is identified (served from its own id, refetched by
// its id otherwise), is either the owner's actor document or a pointer to
// it: a key naming its owner or controller, or a stub of the actor
// (GoToSocial serves one at the key URL, whose id is the actor's). A
// pointer is followed once, to an actor document fetched from its own id;
// that document must list keyID, and the key material is taken from it,
// never from the pointer.
func (r *Resolver) fetchKey(ctx context.Context, keyID string) (PublicKey, error) {
	base, _, _ := strings.Cut(keyID, "#")
	d, err := r.identified(ctx, base)
	if err != nil {
		return PublicKey{}, fmt.Errorf("key %s: %w", keyID, err)
	}
	if !d.isActor() {
		owner := d.owner()
		if owner == "" || owner == d.ID {
			return PublicKey{}, fmt.Errorf("key %s: %s is neither an actor nor a key naming its owner", keyID, d.ID)
		}
		if d, err = r.identified(ctx, owner); err != nil {
			return PublicKey{}, fmt.Errorf("key %s: owner: %w", keyID, err)
		}
		if !d.isActor() {
			return PublicKey{}, fmt.Errorf("key %s: owner %s is a %q, not an actor", keyID, d.ID, d.Type)
		}
	}
	a, err := ParseActor(d.Body, d.URL)
	if err != nil {
		return PublicKey{}, fmt.Errorf("key %s: %w", keyID, err)
	}
	k, ok := a.ListsKey(keyID)
	if !ok {
		return PublicKey{}, fmt.Errorf("key %s: actor %s does not list it", keyID, a.IRI)
	}
	if err := r.store(ctx, a, d.Body, keyID); err != nil {
		return PublicKey{}, err
	}
	return PublicKey{ID: k.ID, Owner: a.IRI, Key: k.Key}, nil
}

func (r *Resolver) localKey(ctx context.Context, keyID string) (PublicKey, error) {
	actor, _, _ := strings.Cut(keyID, "#")
	owner := ""
	if actor != r.urls.InstanceActor() {
		name, ok := strings.CutPrefix(actor, r.urls.Base()+"/users/")
		if !ok {
			name, ok = r.urls.CourseSlug(actor)
		}
		if !ok {
			return PublicKey{}, fmt.Errorf("key %s: %w", keyID, ErrNotFound)
		}
		owner = name
	}
	if keyID != MainKey(actor) {
		return PublicKey{}, fmt.Errorf("key %s: %w", keyID, ErrNotFound)
	}
	kp, err := r.keys.Get(ctx, owner)
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey{ID: keyID, Owner: actor, Key: &kp.RSA.PublicKey}, nil
}

// Actor returns the remote actor iri, from the cache when it was fetched in
// the last day, else from its server. The actor returned is the one whose
// document was served from its own id: when iri redirects or serves a
// document with another id, that id is fetched and the actor has it.
func (r *Resolver) Actor(ctx context.Context, iri string, refresh bool) (RemoteActor, error) {
	if !refresh {
		a, err := r.stored(ctx, iri)
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return RemoteActor{}, err
		}
	}
	return r.fetchActor(ctx, iri)
}

func (r *Resolver) stored(ctx context.Context, iri string) (RemoteActor, error) {
	var doc []byte
	var fetched time.Time
	err := r.pool.QueryRow(ctx, `SELECT document, fetched_at FROM remote_actors WHERE iri = $1`, iri).Scan(&doc, &fetched)
	if err != nil {
		return RemoteActor{}, err
	}
	if time.Since(fetched) > 24*time.Hour {
		if a, err := r.fetchActor(ctx, iri); err == nil {
			return a, nil
		}
	}
	return ParseActor(doc, iri)
}

// fetchActor fetches, validates and stores an actor; concurrent calls for
// one IRI share a single fetch.
func (r *Resolver) fetchActor(ctx context.Context, iri string) (RemoteActor, error) {
	v, err, _ := r.flights.Do("actor "+iri, func() (any, error) {
		d, err := r.identified(ctx, iri)
		if err != nil {
			return nil, fmt.Errorf("fetch actor %s: %w", iri, err)
		}
		a, err := ParseActor(d.Body, d.URL)
		if err != nil {
			return nil, err
		}
		if err := r.store(ctx, a, d.Body, a.KeyID); err != nil {
			return nil, err
		}
		return a, nil
	})
	if err != nil {
		return RemoteActor{}, err
	}
	return v.(RemoteActor), nil
}

// store keeps an actor that passed every check, recording keyID as its
// key. Lookups by key go through the actor's id (storedKey), so another
// row that claimed the same key id gives the claim up.
func (r *Resolver) store(ctx context.Context, a RemoteActor, body []byte, keyID string) error {
	k, ok := a.ListsKey(keyID)
	if !ok {
		k = a.Keys[0]
	}
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE remote_actors SET key_id = iri || '#key-listed-elsewhere'
			WHERE key_id = $1 AND iri <> $2`, k.ID, a.IRI); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO remote_actors (iri, key_id, public_key_pem, inbox, shared_inbox, preferred_username, host, actor_type, document, fetched_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
			ON CONFLICT (iri) DO UPDATE SET key_id = $2, public_key_pem = $3, inbox = $4, shared_inbox = $5,
				preferred_username = $6, host = $7, actor_type = $8, document = $9, fetched_at = now()`,
			a.IRI, k.ID, k.PEM, a.Inbox, a.SharedInbox, a.PreferredUsername, a.Host(), a.Type, json.RawMessage(body))
		return err
	})
	if err != nil {
		return fmt.Errorf("store actor %s: %w", a.IRI, err)
	}
	return nil
}

// fetch GETs a document, signed by the instance actor, within the host's
// fetch budget.
func (r *Resolver) fetch(ctx context.Context, iri string) (Fetched, error) {
	if err := r.hosts.wait(ctx, iri); err != nil {
		return Fetched{}, err
	}
	signer, err := r.instanceSigner(ctx)
	if err != nil {
		return Fetched{}, err
	}
	return r.client.Fetch(ctx, iri, AcceptActivity, signer)
}

// identified fetches iri and returns the document only once it is what it
// says: served as ActivityStreams, one JSON object without duplicate keys,
// with an id equal to the URL it was finally served from (after
// redirects). A document whose id is elsewhere is fetched once more, by
// that id, and must be served from it exactly.
func (r *Resolver) identified(ctx context.Context, iri string) (document, error) {
	f, err := r.fetch(ctx, iri)
	if err != nil {
		return document{}, err
	}
	d, err := parseDocument(f)
	if err != nil {
		return document{}, err
	}
	if sameURL(d.ID, d.URL) {
		return d, nil
	}
	claimed := d.ID
	if Origin(claimed) == "" {
		return document{}, fmt.Errorf("%s: %w: id %q is not an http(s) URL", d.URL, ErrIdentity, claimed)
	}
	if f, err = r.fetch(ctx, claimed); err != nil {
		return document{}, fmt.Errorf("%s claims id %s: %w", d.URL, claimed, err)
	}
	if d, err = parseDocument(f); err != nil {
		return document{}, err
	}
	if d.ID != claimed || !sameURL(claimed, d.URL) {
		return document{}, fmt.Errorf("%s: %w: id %q served from %s", iri, ErrIdentity, d.ID, d.URL)
	}
	return d, nil
}

// Handle resolves "@name@host" (or "name@host", or "acct:name@host") through
// WebFinger to the actor it names. The host may carry a port.
func (r *Resolver) Handle(ctx context.Context, handle string) (RemoteActor, error) {
	name, host, err := SplitHandle(handle)
	if err != nil {
		return RemoteActor{}, err
	}
	q := url.Values{"resource": {"acct:" + name + "@" + host}}
	wf := r.scheme + "://" + host + "/.well-known/webfinger?" + q.Encode()
	if err := r.hosts.wait(ctx, wf); err != nil {
		return RemoteActor{}, fmt.Errorf("webfinger %s: %w", handle, err)
	}
	body, err := r.client.Get(ctx, wf, "application/jrd+json, application/json", nil)
	var se *StatusError
	if errors.As(err, &se) && se.StatusCode == 404 {
		return RemoteActor{}, fmt.Errorf("webfinger %s: %w", handle, ErrNotFound)
	}
	if err != nil {
		return RemoteActor{}, fmt.Errorf("webfinger %s: %w", handle, err)
	}
	jrd, err := ParseJRD(body)
	if err != nil {
		return RemoteActor{}, fmt.Errorf("webfinger %s: %w", handle, err)
	}
	href, err := jrd.ActorLink()
	if err != nil {
		return RemoteActor{}, fmt.Errorf("webfinger %s: %w", handle, err)
	}
	return r.Actor(ctx, href, false)
}

// SplitHandle splits "@name@host", "name@host" or "acct:name@host" into its
// name and host[:port].
func SplitHandle(handle string) (name, host string, err error) {
	h := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(handle), "acct:"), "@")
	name, host, ok := strings.Cut(h, "@")
	if !ok || name == "" || host == "" || strings.ContainsAny(host, "/@?#") || strings.ContainsAny(name, "/?#") {
		return "", "", fmt.Errorf("%q is not a handle of the form @name@host", handle)
	}
	return name, strings.ToLower(host), nil
}

// ErrGone means a remote object was deleted (404, 410 or a Tombstone).
var ErrGone = errors.New("object is gone")

// Object fetches the ActivityStreams object iri from its origin, signed by
// the instance actor, and returns it once it is what it says: served as
// ActivityStreams, without duplicate keys, from its own id (a document
// whose id is elsewhere is refetched by that id, and the document returned
// then has that id, not iri: callers decide from the id in the document).
// A deleted object (404, 410 or a Tombstone) is ErrGone.
func (r *Resolver) Object(ctx context.Context, iri string) ([]byte, error) {
	d, err := r.identified(ctx, iri)
	var se *StatusError
	if errors.As(err, &se) && (se.StatusCode == 404 || se.StatusCode == 410) {
		return nil, fmt.Errorf("fetch %s: %w", iri, ErrGone)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", iri, err)
	}
	if d.Type == "Tombstone" {
		return nil, fmt.Errorf("fetch %s: %w", iri, ErrGone)
	}
	return d.Body, nil
}
