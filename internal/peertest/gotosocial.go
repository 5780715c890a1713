package peertest

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-fed/httpsig"
)

// CheckGoToSocialSignatures makes the peer verify, from now on, every POST
// it receives and every GET of a path served with RequireSignature, by
// GoToSocial's rules (VerifyGoToSocial). A GET that fails is answered 401;
// a POST's result is kept in Received.SignatureError.
func (p *Peer) CheckGoToSocialSignatures() {
	p.mu.Lock()
	p.gtsRules = true
	p.mu.Unlock()
}

// VerifyGoToSocial checks r's draft-cavage signature the way GoToSocial
// 0.20 does, independently of colearn's verifier: the algorithm is hs2019
// or rsa-sha256 (verified as RSA-SHA256); the signed headers include
// (request-target) host date, and digest on a request with a body; the
// (request-target) is the path with its query, exactly as requested; Date
// is within an hour; the Digest matches the body; and the key is fetched
// from the keyId's document (GET with the ActivityStreams Accept), taking
// publicKey (one object or an array) whose id is the keyId. It returns the
// keyId that signed.
func VerifyGoToSocial(r *http.Request, body []byte) (string, error) {
	v, err := httpsig.NewVerifier(r)
	if err != nil {
		return "", fmt.Errorf("no signature: %w", err)
	}
	params := map[string]string{}
	for _, part := range strings.Split(r.Header.Get("Signature"), ",") {
		k, val, _ := strings.Cut(part, "=")
		params[strings.TrimSpace(k)] = strings.Trim(val, `"`)
	}
	switch params["algorithm"] {
	case "hs2019", "rsa-sha256":
	default:
		return "", fmt.Errorf("algorithm %q", params["algorithm"])
	}
	signed := strings.Fields(params["headers"])
	need := []string{"(request-target)", "host", "date"}
	if body != nil {
		need = append(need, "digest")
	}
	for _, n := range need {
		found := false
		for _, h := range signed {
			found = found || h == n
		}
		if !found {
			return "", fmt.Errorf("header %s not signed (signed: %s)", n, params["headers"])
		}
	}
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil || time.Since(date) > time.Hour || time.Until(date) > time.Hour {
		return "", fmt.Errorf("date %q", r.Header.Get("Date"))
	}
	if body != nil {
		sum := sha256.Sum256(body)
		if want := "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:]); r.Header.Get("Digest") != want {
			return "", fmt.Errorf("digest %q, want %q", r.Header.Get("Digest"), want)
		}
	}
	key, err := fetchKey(v.KeyId())
	if err != nil {
		return "", fmt.Errorf("key %s: %w", v.KeyId(), err)
	}
	if err := v.Verify(key, httpsig.RSA_SHA256); err != nil {
		return "", fmt.Errorf("verify with %s: %w", v.KeyId(), err)
	}
	return v.KeyId(), nil
}

// fetchKey dereferences a keyId as GoToSocial does: GET the key id's URL
// and read the publicKey whose id is keyID.
func fetchKey(keyID string) (any, error) {
	req, err := http.NewRequest(http.MethodGet, keyID, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", ActivityJSON)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var doc struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	type pk struct {
		ID  string `json:"id"`
		PEM string `json:"publicKeyPem"`
	}
	var keys []pk
	var one pk
	if json.Unmarshal(doc.PublicKey, &one) == nil && one.ID != "" {
		keys = []pk{one}
	} else if err := json.Unmarshal(doc.PublicKey, &keys); err != nil {
		return nil, errors.New("no publicKey")
	}
	for _, k := range keys {
		if k.ID != keyID {
			continue
		}
		block, _ := pem.Decode([]byte(k.PEM))
		if block == nil {
			return nil, errors.New("publicKeyPem is not PEM")
		}
		return x509.ParsePKIXPublicKey(block.Bytes)
	}
	return nil, errors.New("document does not list the key")
}

// NewGoToSocialActor creates and publishes a Person shaped the way
// GoToSocial 0.20 publishes one: key id IRI/main-key (no fragment); at that
// URL a stub of the actor (id, type, preferredUsername, publicKey; no
// inbox) that anyone may fetch; the actor document itself only to signed
// GETs (with CheckGoToSocialSignatures, only to signatures that verify).
func (p *Peer) NewGoToSocialActor(name string) *Actor {
	p.t.Helper()
	a := p.NewActor(name)
	a.KeyID = a.IRI + "/main-key"
	a.Doc["publicKey"] = a.PublicKey(a.KeyID)
	p.Publish(a)
	return a
}

// publishGoToSocial serves a GoToSocial-shaped actor: its document only to
// signed GETs, its stub at the key URL to anyone.
func (p *Peer) publishGoToSocial(a *Actor) {
	p.Handle(p.Path(a.IRI), Response{Body: p.JSON(a.Doc), RequireSignature: true})
	p.Serve(p.Path(a.KeyID), map[string]any{
		"@context":          []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                a.IRI,
		"type":              a.Doc["type"],
		"preferredUsername": a.Doc["preferredUsername"],
		"publicKey":         a.PublicKey(a.KeyID),
	})
}
