package federation

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"net/url"
	"strings"

	vocab "github.com/go-ap/activitypub"
	"github.com/valyala/fastjson"
)

// RemoteActor is what colearn keeps of an actor on another server.
type RemoteActor struct {
	IRI               string
	Type              string
	Name              string
	PreferredUsername string
	Inbox             string
	SharedInbox       string
	// KeyID, PublicKeyPEM and Key are the actor's first RSA key.
	KeyID        string
	PublicKeyPEM string
	Key          *rsa.PublicKey
	// Keys are all the RSA keys the actor lists as its own, in publicKey
	// (one object or an array) and assertionMethod, first key first.
	Keys []ActorKey
	// ColearnCourse is set for a Group marked as a colearn course
	// (groupkind.go): local users enroll in it with Join, in any other
	// Group with Follow.
	ColearnCourse bool
}

// ActorKey is one RSA key an actor document lists as its own.
type ActorKey struct {
	ID  string
	PEM string
	Key *rsa.PublicKey
}

// ListsKey returns the key with id keyID when the actor lists it.
func (a RemoteActor) ListsKey(keyID string) (ActorKey, bool) {
	for _, k := range a.Keys {
		if k.ID == keyID {
			return k, true
		}
	}
	return ActorKey{}, false
}

// Host is the actor's host[:port].
func (a RemoteActor) Host() string {
	u, err := url.Parse(a.IRI)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// Handle is the actor's @name@host.
func (a RemoteActor) Handle() string { return "@" + a.PreferredUsername + "@" + a.Host() }

// DisplayName is the actor's name, or its handle when it has none.
func (a RemoteActor) DisplayName() string {
	if a.Name != "" {
		return a.Name
	}
	return a.PreferredUsername
}

// DeliveryInbox is the inbox to deliver to: the shared one when the actor's
// server has one.
func (a RemoteActor) DeliveryInbox() string {
	if a.SharedInbox != "" {
		return a.SharedInbox
	}
	return a.Inbox
}

// ParseActor decodes an actor document served from servedFrom and checks
// what colearn relies on: one JSON value without duplicate keys, a known
// actor type, an id that is servedFrom itself (the resolver has already
// refetched a document whose id was elsewhere), a handle that cannot
// mislead, an inbox on the actor's origin, and at least one RSA key that
// the actor lists as its own (publicKey as one object or an array, or a
// Multikey in assertionMethod), on its origin and not owned by another.
// Keys that fail those checks are left out; an actor with none is refused.
func ParseActor(data []byte, servedFrom string) (RemoteActor, error) {
	if err := CheckJSON(data); err != nil {
		return RemoteActor{}, fmt.Errorf("parse actor: %w", err)
	}
	item, err := vocab.UnmarshalJSON(data)
	if err != nil {
		return RemoteActor{}, fmt.Errorf("parse actor: %w", err)
	}
	if item == nil {
		return RemoteActor{}, errors.New("parse actor: unknown object type")
	}
	if !vocab.ActorTypes.Contains(item.GetType()) {
		return RemoteActor{}, fmt.Errorf("parse actor: %q is not an actor type", item.GetType())
	}
	act, err := vocab.ToActor(item)
	if err != nil {
		return RemoteActor{}, fmt.Errorf("parse actor: %w", err)
	}
	a := RemoteActor{
		IRI:               act.ID.String(),
		Type:              string(act.Type),
		PreferredUsername: act.PreferredUsername.First().String(),
		Name:              act.Name.First().String(),
	}
	if !sameURL(a.IRI, servedFrom) || Origin(a.IRI) == "" {
		return RemoteActor{}, fmt.Errorf("parse actor: id %q is not %q, where it was served from", a.IRI, servedFrom)
	}
	if err := CheckUsername(a.PreferredUsername); err != nil {
		return RemoteActor{}, fmt.Errorf("actor %s: %w", a.IRI, err)
	}
	if act.Inbox != nil {
		a.Inbox = act.Inbox.GetLink().String()
	}
	if !SameOrigin(a.Inbox, a.IRI) {
		return RemoteActor{}, fmt.Errorf("actor %s: inbox %q is missing or on another origin", a.IRI, a.Inbox)
	}
	if act.Endpoints != nil && act.Endpoints.SharedInbox != nil {
		a.SharedInbox = act.Endpoints.SharedInbox.GetLink().String()
		if !SameOrigin(a.SharedInbox, a.IRI) {
			a.SharedInbox = ""
		}
	}
	v, err := fastjson.ParseBytes(data)
	if err != nil {
		return RemoteActor{}, fmt.Errorf("parse actor: %w", err)
	}
	a.Keys = actorKeys(v, a.IRI)
	a.ColearnCourse = a.Type == string(vocab.GroupType) && isColearnCourse(v)
	if len(a.Keys) == 0 {
		return RemoteActor{}, fmt.Errorf("actor %s lists no RSA key of its own", a.IRI)
	}
	a.KeyID, a.PublicKeyPEM, a.Key = a.Keys[0].ID, a.Keys[0].PEM, a.Keys[0].Key
	return a, nil
}
