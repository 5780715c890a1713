package federation

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"net/url"
	"strings"

	vocab "github.com/go-ap/activitypub"
)

// RemoteActor is what colearn keeps of an actor on another server.
type RemoteActor struct {
	IRI               string
	Type              string
	Name              string
	PreferredUsername string
	Inbox             string
	SharedInbox       string
	KeyID             string
	PublicKeyPEM      string
	Key               *rsa.PublicKey
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

// ParseActor decodes an actor document fetched from fetchedFrom and checks
// what colearn relies on: a known actor type, an id on the origin it was
// fetched from, an inbox on that origin, and an RSA key owned by the actor.
func ParseActor(data []byte, fetchedFrom string) (RemoteActor, error) {
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
	if !SameOrigin(a.IRI, fetchedFrom) {
		return RemoteActor{}, fmt.Errorf("actor id %q is not on the origin of %q", a.IRI, fetchedFrom)
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
	a.KeyID = act.PublicKey.ID.String()
	a.PublicKeyPEM = act.PublicKey.PublicKeyPem
	if a.KeyID == "" || a.PublicKeyPEM == "" {
		return RemoteActor{}, fmt.Errorf("actor %s has no publicKey", a.IRI)
	}
	if owner := act.PublicKey.Owner.String(); owner != "" && owner != a.IRI {
		return RemoteActor{}, fmt.Errorf("actor %s: key %s is owned by %s", a.IRI, a.KeyID, owner)
	}
	if !SameOrigin(a.KeyID, a.IRI) {
		return RemoteActor{}, fmt.Errorf("actor %s: key %s is on another origin", a.IRI, a.KeyID)
	}
	if a.Key, err = ParsePublicKeyPEM(a.PublicKeyPEM); err != nil {
		return RemoteActor{}, fmt.Errorf("actor %s: %w", a.IRI, err)
	}
	return a, nil
}
