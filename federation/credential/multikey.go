package credential

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// VerificationMethod is a resolved Ed25519 Multikey: its id, the
// controller that published it, and the key.
type VerificationMethod struct {
	ID         string
	Controller string
	Key        ed25519.PublicKey
}

// ErrKeyNotFound means a verification method could not be resolved: its
// controller does not publish it, or it could not be fetched.
var ErrKeyNotFound = errors.New("verification method not found")

type multikeyDoc struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase"`
}

// ParseMultikey parses a Multikey document (a JSON object with id, type
// Multikey, controller and publicKeyMultibase), as given to `colearn badge
// verify --key`.
func ParseMultikey(data []byte) (VerificationMethod, error) {
	if _, err := ParseDocument(data); err != nil {
		return VerificationMethod{}, fmt.Errorf("multikey document: %w", err)
	}
	var d multikeyDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return VerificationMethod{}, fmt.Errorf("multikey document: %w", err)
	}
	return d.method()
}

func (d multikeyDoc) method() (VerificationMethod, error) {
	if d.Type != "Multikey" || d.ID == "" || d.Controller == "" {
		return VerificationMethod{}, fmt.Errorf("%q is not a Multikey with id and controller", d.ID)
	}
	pub, err := DecodeMultikey(d.PublicKeyMultibase)
	if err != nil {
		return VerificationMethod{}, fmt.Errorf("key %s: %w", d.ID, err)
	}
	return VerificationMethod{ID: d.ID, Controller: d.Controller, Key: pub}, nil
}

// MethodFromController finds the verification method vmID in a controller
// document (an ActivityPub actor carrying FEP-521a assertionMethod, or a
// controller document) fetched from controllerURL. The document's id must
// be controllerURL, it must list vmID in assertionMethod, and the key's
// controller must be the document: a key document naming an owner proves
// nothing by itself.
func MethodFromController(doc []byte, controllerURL, vmID string) (VerificationMethod, error) {
	if _, err := ParseDocument(doc); err != nil {
		return VerificationMethod{}, fmt.Errorf("controller %s: %w", controllerURL, err)
	}
	var d struct {
		ID              string            `json:"id"`
		AssertionMethod []json.RawMessage `json:"assertionMethod"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return VerificationMethod{}, fmt.Errorf("controller %s: %w", controllerURL, err)
	}
	if d.ID != controllerURL {
		return VerificationMethod{}, fmt.Errorf("controller document fetched from %s has id %q", controllerURL, d.ID)
	}
	for _, raw := range d.AssertionMethod {
		var m multikeyDoc
		if json.Unmarshal(raw, &m) != nil || m.ID != vmID {
			continue
		}
		if m.Controller != d.ID {
			return VerificationMethod{}, fmt.Errorf("key %s is controlled by %q, not by %s", vmID, m.Controller, d.ID)
		}
		return m.method()
	}
	return VerificationMethod{}, fmt.Errorf("%s does not list %s in assertionMethod: %w", controllerURL, vmID, ErrKeyNotFound)
}

// ControllerURL is the document a verification method id names: the URL
// without its fragment.
func ControllerURL(vmID string) string {
	u, _, _ := strings.Cut(vmID, "#")
	return u
}
