package federation

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/colearn/colearn/federation/credential"
)

// AcceptCredential is the Accept header for fetching credentials and
// status lists.
const AcceptCredential = "application/vc+ld+json, application/vc, application/ld+json;q=0.9, application/json;q=0.8"

// CredentialKeys resolves what credential.Verifier needs from the network:
// verification methods (local ones from the KeyStore; remote ones from
// their controller's document, fetched from its own origin, which must list
// the key in assertionMethod) and status lists (fetched from their URL,
// whose document must carry that id). A nil Resolver makes it local-only.
type CredentialKeys struct {
	URLs     URLs
	Keys     *KeyStore
	Resolver *Resolver
	// LocalStatusFunc renders a status list of this instance without a
	// request to itself; ok false means there is no such list.
	LocalStatusFunc func(ctx context.Context, url string) (body []byte, ok bool, err error)
}

// ResolveMethod implements credential.KeyResolver.
func (k *CredentialKeys) ResolveMethod(ctx context.Context, vmID string) (credential.VerificationMethod, error) {
	controller := credential.ControllerURL(vmID)
	if k.URLs.IsLocal(vmID) {
		owner, ok := k.localOwner(controller)
		if !ok || vmID != AssertionKey(controller) {
			return credential.VerificationMethod{}, fmt.Errorf("no local key %s: %w", vmID, credential.ErrKeyNotFound)
		}
		kp, err := k.Keys.Get(ctx, owner)
		if err != nil {
			return credential.VerificationMethod{}, fmt.Errorf("key %s: %w: %v", vmID, credential.ErrKeyNotFound, err)
		}
		return credential.VerificationMethod{ID: vmID, Controller: controller, Key: kp.Ed25519.Public().(ed25519.PublicKey)}, nil
	}
	if k.Resolver == nil {
		return credential.VerificationMethod{}, fmt.Errorf("cannot fetch %s: %w", vmID, credential.ErrKeyNotFound)
	}
	doc, err := k.Resolver.Object(ctx, controller)
	if err != nil {
		return credential.VerificationMethod{}, fmt.Errorf("%w: %v", credential.ErrKeyNotFound, err)
	}
	return credential.MethodFromController(doc, controller, vmID)
}

func (k *CredentialKeys) localOwner(actor string) (string, bool) {
	if actor == k.URLs.InstanceActor() {
		return "", true
	}
	if name, ok := strings.CutPrefix(actor, k.URLs.Base()+"/users/"); ok && name != "" && !strings.ContainsAny(name, "/?#") {
		return name, true
	}
	return k.URLs.CourseSlug(actor)
}

// FetchStatusList implements credential.StatusFetcher.
func (k *CredentialKeys) FetchStatusList(ctx context.Context, url string) ([]byte, error) {
	if k.URLs.IsLocal(url) && k.LocalStatusFunc != nil {
		body, ok, err := k.LocalStatusFunc(ctx, url)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("no status list %s here", url)
		}
		return body, nil
	}
	if k.Resolver == nil {
		return nil, fmt.Errorf("cannot fetch %s", url)
	}
	return k.Resolver.Credential(ctx, url)
}

// Credential fetches a credential (or status list credential) from url,
// signed by the instance actor, and checks that the document's id is url.
func (r *Resolver) Credential(ctx context.Context, url string) ([]byte, error) {
	signer, err := r.instanceSigner(ctx)
	if err != nil {
		return nil, err
	}
	body, err := r.client.Get(ctx, url, AcceptCredential, signer)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	if head.ID != url {
		return nil, fmt.Errorf("fetch %s: document has id %q", url, head.ID)
	}
	return body, nil
}

// CredentialFetcher resolves verification methods and status lists with
// unsigned GETs through the SSRF-safe client, for verifying outside a
// running instance (colearn badge verify). The same origin checks apply:
// the controller document must carry the id it was fetched from.
type CredentialFetcher struct {
	Client *Client
}

// ResolveMethod implements credential.KeyResolver.
func (f *CredentialFetcher) ResolveMethod(ctx context.Context, vmID string) (credential.VerificationMethod, error) {
	controller := credential.ControllerURL(vmID)
	doc, err := f.Client.Get(ctx, controller, AcceptActivity+", application/did+ld+json;q=0.8, application/json;q=0.5", nil)
	if err != nil {
		return credential.VerificationMethod{}, fmt.Errorf("%w: %v", credential.ErrKeyNotFound, err)
	}
	return credential.MethodFromController(doc, controller, vmID)
}

// FetchStatusList implements credential.StatusFetcher.
func (f *CredentialFetcher) FetchStatusList(ctx context.Context, url string) ([]byte, error) {
	body, err := f.Client.Get(ctx, url, AcceptCredential, nil)
	if err != nil {
		return nil, err
	}
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &head); err != nil || head.ID != url {
		return nil, fmt.Errorf("status list fetched from %s has id %q", url, head.ID)
	}
	return body, nil
}
