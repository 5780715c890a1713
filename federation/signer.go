package federation

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"time"

	"github.com/go-fed/httpsig"
)

// Signer signs outgoing requests as one actor, draft-cavage-12 with
// rsa-sha256, the form every Mastodon-compatible server verifies. GETs sign
// (request-target) host date; requests with a body also sign digest.
// A Signer is safe for concurrent use.
type Signer struct {
	KeyID string
	Key   *rsa.PrivateKey
}

var (
	getHeaders  = []string{httpsig.RequestTarget, "host", "date"}
	postHeaders = []string{httpsig.RequestTarget, "host", "date", "digest"}
)

// Sign adds Date, Host, Digest (when body is not nil) and Signature headers
// to r. The (request-target) covers the path and the query, as Mastodon 4.2+,
// GoToSocial and Fedify sign and expect; the algorithm is labelled hs2019,
// which every verifier that knows draft-cavage accepts as RSA-SHA256.
func (s Signer) Sign(r *http.Request, body []byte) error {
	headers := getHeaders
	if body != nil {
		headers = postHeaders
		r.Header.Del("Digest") // httpsig adds it from body
	}
	r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	// httpsig reads host from the header map; Go sends Request.Host.
	r.Header.Set("Host", host)
	// go-fed's signers keep per-call state, so each call makes its own.
	signer, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256, headers, httpsig.Signature, 0)
	if err != nil {
		return fmt.Errorf("make signer: %w", err)
	}
	if err := signer.SignRequest(s.Key, s.KeyID, r, body); err != nil {
		return fmt.Errorf("sign %s %s: %w", r.Method, r.URL, err)
	}
	return nil
}
