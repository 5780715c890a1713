package federation

import (
	"errors"
	"log/slog"
	"net/http"
)

// Reason classes: what a peer is told about a refused signature. They name
// the kind of fault and nothing about colearn's network (addresses, DNS
// answers, dial errors), which goes to the log only.
const (
	ClassMissing     = "signature missing"
	ClassInvalid     = "signature invalid"
	ClassUnavailable = "key unavailable"
	ClassDate        = "date outside window"
)

// refusalText is the whole answer for each reason: a class and a fixed hint
// for the peer's operator.
var refusalText = map[string]string{
	"missing":   ClassMissing + ": sign with draft-cavage-12 over (request-target) host date, and digest with a body",
	"malformed": ClassInvalid + ": the Signature header cannot be parsed",
	"algorithm": ClassInvalid + ": the algorithm must be rsa-sha256 or hs2019",
	"headers":   ClassInvalid + ": the signature must cover (request-target) host date, and digest with a body",
	"digest":    ClassInvalid + ": the Digest header is missing or does not match the body",
	"host":      ClassInvalid + ": signed for another host",
	"rfc9421":   ClassInvalid + ": RFC 9421 signatures are not verified here; sign with draft-cavage-12",
	"invalid":   ClassInvalid + ": it does not verify with the key",
	"key":       ClassUnavailable + ": the keyId does not lead to an actor that lists it",
	"date":      ClassDate + ": the Date header is missing, malformed or too far from now",
}

// RefusalText is what a peer is told when its signature is refused for
// reason (a SignatureError's Reason): a class, and a fixed hint.
func RefusalText(reason string) string {
	if t, ok := refusalText[reason]; ok {
		return t
	}
	return ClassInvalid
}

// RefuseSignature answers 401 with the class of the reason a signature was
// refused, logs the details and counts the reason. The answer never carries
// err's text: that may hold addresses and dial errors.
func RefuseSignature(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger, count func(string)) {
	reason := "invalid"
	var se *SignatureError
	if errors.As(err, &se) {
		reason = se.Reason
	}
	if count != nil {
		count(reason)
	}
	if log != nil {
		log.Info("signature refused", "reason", reason, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	w.Header().Set("WWW-Authenticate", `Signature realm="colearn",headers="(request-target) host date digest"`)
	http.Error(w, RefusalText(reason), http.StatusUnauthorized)
}

// RefusePolicy answers 403 to a request whose signature verified but which
// policy refuses (the signer is not the actor, an id on another origin, a
// blocked actor or domain), logs it and counts the reason. Peers do not
// retry a 403. message is shown to the peer: give ids, never addresses.
func RefusePolicy(w http.ResponseWriter, r *http.Request, reason, message string, log *slog.Logger, count func(string)) {
	if count != nil {
		count(reason)
	}
	if log != nil {
		log.Info("request refused by policy", "reason", reason, "method", r.Method, "path", r.URL.Path, "detail", message)
	}
	http.Error(w, message, http.StatusForbidden)
}
