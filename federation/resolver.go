package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/singleflight"
)

// AcceptActivity is the Accept header for fetching ActivityStreams objects.
const AcceptActivity = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// ErrNotFound means a remote object or handle does not exist.
var ErrNotFound = errors.New("not found")

// Resolver finds remote actors by IRI, key id or @name@host, and caches them
// in PostgreSQL (table remote_actors) and, for keys, in memory. Concurrent
// lookups of one actor make one fetch. Fetches are signed by the instance
// actor, so servers with authorized fetch answer them.
type Resolver struct {
	pool    *pgxpool.Pool
	client  *Client
	urls    URLs
	keys    *KeyStore
	scheme  string
	flights singleflight.Group

	mu    sync.RWMutex
	byKey map[string]PublicKey
}

// maxCachedKeys bounds the in-memory key cache; past it the cache restarts.
const maxCachedKeys = 50_000

// NewResolver returns a Resolver. WebFinger lookups use the scheme of urls
// (http only in development mode).
func NewResolver(pool *pgxpool.Pool, client *Client, urls URLs, keys *KeyStore) *Resolver {
	return &Resolver{pool: pool, client: client, urls: urls, keys: keys, scheme: urls.Scheme, byKey: make(map[string]PublicKey)}
}

// instanceSigner signs fetches as the instance actor.
func (r *Resolver) instanceSigner(ctx context.Context) (*Signer, error) {
	kp, err := r.keys.Get(ctx, "")
	if err != nil {
		return nil, err
	}
	return &Signer{KeyID: MainKey(r.urls.InstanceActor()), Key: kp.RSA}, nil
}

// ResolveKey returns the key keyID names, from memory, the database or its
// owner's server; with refresh it always fetches. Local keys are read from
// the KeyStore directly.
func (r *Resolver) ResolveKey(ctx context.Context, keyID string, refresh bool) (PublicKey, error) {
	if r.urls.IsLocal(keyID) {
		return r.localKey(ctx, keyID)
	}
	if !refresh {
		r.mu.RLock()
		k, ok := r.byKey[keyID]
		r.mu.RUnlock()
		if ok {
			return k, nil
		}
		var iri string
		err := r.pool.QueryRow(ctx, `SELECT iri FROM remote_actors WHERE key_id = $1`, keyID).Scan(&iri)
		if err == nil {
			a, err := r.stored(ctx, iri)
			if err == nil {
				return r.remember(a), nil
			}
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return PublicKey{}, err
		}
	}
	owner, _, _ := strings.Cut(keyID, "#")
	a, err := r.fetchActor(ctx, owner)
	if err != nil {
		return PublicKey{}, err
	}
	if a.KeyID != keyID {
		return PublicKey{}, fmt.Errorf("actor %s does not publish key %s", a.IRI, keyID)
	}
	return r.remember(a), nil
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

func (r *Resolver) remember(a RemoteActor) PublicKey {
	k := PublicKey{ID: a.KeyID, Owner: a.IRI, Key: a.Key}
	r.mu.Lock()
	if len(r.byKey) >= maxCachedKeys {
		r.byKey = make(map[string]PublicKey)
	}
	r.byKey[a.KeyID] = k
	r.mu.Unlock()
	return k
}

// Actor returns the remote actor iri, from the cache when it was fetched in
// the last day, else from its server.
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
	v, err, _ := r.flights.Do(iri, func() (any, error) {
		signer, err := r.instanceSigner(ctx)
		if err != nil {
			return nil, err
		}
		body, err := r.client.Get(ctx, iri, AcceptActivity, signer)
		if err != nil {
			return nil, fmt.Errorf("fetch actor %s: %w", iri, err)
		}
		a, err := ParseActor(body, iri)
		if err != nil {
			return nil, err
		}
		var compact json.RawMessage = body
		_, err = r.pool.Exec(ctx, `
			INSERT INTO remote_actors (iri, key_id, public_key_pem, inbox, shared_inbox, preferred_username, host, actor_type, document, fetched_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
			ON CONFLICT (iri) DO UPDATE SET key_id = $2, public_key_pem = $3, inbox = $4, shared_inbox = $5,
				preferred_username = $6, host = $7, actor_type = $8, document = $9, fetched_at = now()`,
			a.IRI, a.KeyID, a.PublicKeyPEM, a.Inbox, a.SharedInbox, a.PreferredUsername, a.Host(), a.Type, compact)
		if err != nil {
			return nil, fmt.Errorf("store actor %s: %w", a.IRI, err)
		}
		return a, nil
	})
	if err != nil {
		return RemoteActor{}, err
	}
	return v.(RemoteActor), nil
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
// the instance actor, and checks that the document's id is iri. A deleted
// object is ErrGone.
func (r *Resolver) Object(ctx context.Context, iri string) ([]byte, error) {
	signer, err := r.instanceSigner(ctx)
	if err != nil {
		return nil, err
	}
	body, err := r.client.Get(ctx, iri, AcceptActivity, signer)
	var se *StatusError
	if errors.As(err, &se) && (se.StatusCode == 404 || se.StatusCode == 410) {
		return nil, fmt.Errorf("fetch %s: %w", iri, ErrGone)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", iri, err)
	}
	var head struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", iri, err)
	}
	if head.ID != iri {
		return nil, fmt.Errorf("fetch %s: document has id %q", iri, head.ID)
	}
	if head.Type == "Tombstone" {
		return nil, fmt.Errorf("fetch %s: %w", iri, ErrGone)
	}
	return body, nil
}
