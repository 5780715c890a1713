package federation

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-fed/httpsig"
)

// SignatureError says why a request's signature was refused. Reason is a
// short, stable word used in metrics and logs; the peer is told only its
// class (RefusalText), since the error text may name addresses.
type SignatureError struct {
	Reason string
	Err    error
}

func (e *SignatureError) Error() string { return "signature " + e.Reason + ": " + e.Err.Error() }
func (e *SignatureError) Unwrap() error { return e.Err }

func sigErr(reason, format string, args ...any) error {
	return &SignatureError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// PublicKey is a verified remote (or local) actor's RSA key.
type PublicKey struct {
	ID    string
	Owner string
	Key   *rsa.PublicKey
}

// KeyResolver finds the public key named by a signature's keyId. With
// refresh, it must bypass any cache (the key may have been rotated).
type KeyResolver interface {
	ResolveKey(ctx context.Context, keyID string, refresh bool) (PublicKey, error)
}

// Verifier checks draft-cavage-12 HTTP signatures the way Mastodon makes
// them, filling in what go-fed/httpsig leaves to its caller: which headers
// must be signed, Date freshness, Digest against the body, and hs2019.
type Verifier struct {
	Keys KeyResolver
	// Host is the instance's own host[:port]. When set, a request whose
	// signed host is another is refused (reason "host"): a signature
	// captured at another server cannot be replayed here.
	Host string
	// Window is how far Date may be from now, either way (default 1 h).
	Window time.Duration
	// NowFunc returns the current time (default time.Now).
	NowFunc func() time.Time
}

// Verify checks r's signature, with body the request body already read
// (nil for GET), and returns the key that signed. The signed host is
// r.Host (Go moves the Host header there), which must be v.Host when set. Every failure is a
// *SignatureError; a request carrying only an RFC 9421 Signature-Input is
// refused with reason "rfc9421" so that such peers retry with cavage.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (PublicKey, error) {
	raw := r.Header.Get("Signature")
	if raw == "" {
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Signature ") {
			raw = strings.TrimPrefix(a, "Signature ")
		}
	}
	if raw == "" || r.Header.Get("Signature-Input") != "" && !strings.Contains(raw, "keyId=") {
		if r.Header.Get("Signature-Input") != "" {
			return PublicKey{}, sigErr("rfc9421", "RFC 9421 signatures are not verified here; sign with draft-cavage-12")
		}
		return PublicKey{}, sigErr("missing", "request is not signed")
	}
	p, err := ParseSignatureHeader(raw)
	if err != nil {
		return PublicKey{}, &SignatureError{Reason: "malformed", Err: err}
	}
	switch p.Algorithm {
	case "", "rsa-sha256", "hs2019":
	default:
		return PublicKey{}, sigErr("algorithm", "algorithm %q is not supported (use rsa-sha256 or hs2019)", p.Algorithm)
	}
	required := []string{httpsig.RequestTarget, "host", "date"}
	if body != nil {
		required = append(required, "digest")
	}
	if !p.Covers(required...) {
		return PublicKey{}, sigErr("headers", "signature must cover %s", strings.Join(required, " "))
	}
	if v.Host != "" && !strings.EqualFold(r.Host, v.Host) {
		return PublicKey{}, sigErr("host", "signed for host %q, this is %q", r.Host, v.Host)
	}
	if err := v.checkDate(r.Header.Get("Date")); err != nil {
		return PublicKey{}, err
	}
	if body != nil {
		if err := CheckDigest(r.Header.Get("Digest"), body); err != nil {
			return PublicKey{}, err
		}
	}
	key, err := v.Keys.ResolveKey(ctx, p.KeyID, false)
	if err != nil {
		return PublicKey{}, sigErr("key", "cannot resolve key %s: %v", p.KeyID, err)
	}
	// httpsig parses the header again, more loosely: names are
	// case-sensitive and a space after a comma hides a parameter, so a
	// declared "Headers" or " headers" would be checked above but verified
	// as the default "date". Hand it exactly the parameters checked.
	defer canonicalSignature(r, p)()
	if verifyWithQueryOrNot(r, key.Key) == nil {
		return key, nil
	}
	// The key may have been rotated: fetch it afresh once.
	fresh, err := v.Keys.ResolveKey(ctx, p.KeyID, true)
	if err != nil || fresh.Key.Equal(key.Key) {
		return PublicKey{}, sigErr("invalid", "signature does not verify with key %s", p.KeyID)
	}
	if verifyWithQueryOrNot(r, fresh.Key) != nil {
		return PublicKey{}, sigErr("invalid", "signature does not verify with key %s", p.KeyID)
	}
	return fresh, nil
}

func (v *Verifier) checkDate(h string) error {
	if h == "" {
		return sigErr("date", "Date header is missing")
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return sigErr("date", "Date header %q is not an HTTP date", h)
	}
	now := time.Now()
	if v.NowFunc != nil {
		now = v.NowFunc()
	}
	w := v.Window
	if w == 0 {
		w = time.Hour
	}
	if d := now.Sub(t); d > w || d < -w {
		return sigErr("date", "Date %s is outside the accepted window of ±%s", h, w)
	}
	return nil
}

// CheckDigest compares a Digest header's SHA-256 value with body. Other
// algorithms in the header are ignored, but SHA-256 must be present.
func CheckDigest(header string, body []byte) error {
	if header == "" {
		return sigErr("digest", "Digest header is missing")
	}
	for _, part := range strings.Split(header, ",") {
		alg, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(alg, "SHA-256") {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			return sigErr("digest", "Digest value is not base64")
		}
		sum := sha256.Sum256(body)
		if subtle.ConstantTimeCompare(got, sum[:]) != 1 {
			return sigErr("digest", "Digest does not match the body")
		}
		return nil
	}
	return sigErr("digest", "Digest has no SHA-256 value")
}

// canonicalSignature replaces r's signature headers with the canonical form
// of p for httpsig and returns a func that restores them.
func canonicalSignature(r *http.Request, p SignatureParams) (restore func()) {
	sig, hadSig := r.Header["Signature"]
	auth, hadAuth := r.Header["Authorization"]
	r.Header.Del("Authorization")
	r.Header.Set("Signature", `keyId="`+p.KeyID+`",algorithm="hs2019",headers="`+strings.Join(p.Headers, " ")+`",signature="`+p.Signature+`"`)
	return func() {
		r.Header.Del("Signature")
		if hadSig {
			r.Header["Signature"] = sig
		}
		if hadAuth {
			r.Header["Authorization"] = auth
		}
	}
}

// verifyWithQueryOrNot verifies with the (request-target) as sent, then
// without its query, since signers differ on including it.
func verifyWithQueryOrNot(r *http.Request, key *rsa.PublicKey) error {
	err := verifyOnce(r, key)
	if err == nil || r.URL.RawQuery == "" {
		return err
	}
	q := r.URL.RawQuery
	r.URL.RawQuery = ""
	defer func() { r.URL.RawQuery = q }()
	return verifyOnce(r, key)
}

func verifyOnce(r *http.Request, key *rsa.PublicKey) error {
	hv, err := httpsig.NewVerifier(r)
	if err != nil {
		return err
	}
	return hv.Verify(key, httpsig.RSA_SHA256)
}
