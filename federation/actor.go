package federation

import (
	"encoding/json"
	"fmt"
	"time"

	vocab "github.com/go-ap/activitypub"
)

// LocalActor is what an actor document is made of.
type LocalActor struct {
	// Owner is the local handle ("" for the instance actor).
	Owner string
	// Type is Person, Group or Application.
	Type         vocab.ActivityVocabularyType
	Name         string
	Summary      string // HTML
	IconURL      string
	ProfileURL   string
	Keys         KeyPair
	Discoverable bool
	// ManuallyApproves means follow requests wait for approval.
	ManuallyApproves bool
	// Published is when the account was made (zero: not given).
	Published time.Time
	// Indexable is the owner's opt-in to search indexing of their posts.
	Indexable bool
}

// ActorDocument renders a local actor as ActivityStreams JSON-LD, with its
// RSA key (publicKey) and its Ed25519 key as a Multikey in assertionMethod.
func (u URLs) ActorDocument(a LocalActor) ([]byte, error) {
	iri := u.Actor(a.Owner)
	act := vocab.ActorNew(vocab.IRI(iri), a.Type)
	username := a.Owner
	if a.Owner == "" {
		username = u.Host
	}
	act.PreferredUsername = vocab.DefaultNaturalLanguageValue(username)
	if a.Name != "" {
		act.Name = vocab.DefaultNaturalLanguageValue(a.Name)
	}
	if a.Summary != "" {
		act.Summary = vocab.DefaultNaturalLanguageValue(a.Summary)
	}
	if a.ProfileURL != "" {
		act.URL = vocab.IRI(a.ProfileURL)
	}
	if a.IconURL != "" {
		act.Icon = &vocab.Object{Type: vocab.ImageType, URL: vocab.IRI(a.IconURL)}
	}
	if !a.Published.IsZero() {
		act.Published = a.Published.UTC().Truncate(time.Second)
	}
	act.Inbox = vocab.IRI(iri + "/inbox")
	act.Outbox = vocab.IRI(iri + "/outbox")
	act.Followers = vocab.IRI(iri + "/followers")
	act.Following = vocab.IRI(iri + "/following")
	act.Endpoints = &vocab.Endpoints{SharedInbox: vocab.IRI(u.SharedInbox())}
	act.PublicKey = vocab.PublicKey{
		ID:           vocab.IRI(MainKey(iri)),
		Owner:        vocab.IRI(iri),
		PublicKeyPem: a.Keys.PublicKeyPEM(),
	}
	body, err := json.Marshal(act)
	if err != nil {
		return nil, fmt.Errorf("encode actor %s: %w", iri, err)
	}
	return withContext(body, ActorContext, map[string]any{
		"assertionMethod": []map[string]any{{
			"id":                 AssertionKey(iri),
			"type":               "Multikey",
			"controller":         iri,
			"publicKeyMultibase": a.Keys.PublicKeyMultibase(),
		}},
		"manuallyApprovesFollowers": a.ManuallyApproves,
		"discoverable":              a.Discoverable,
		"indexable":                 a.Indexable,
	})
}
