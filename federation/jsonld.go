package federation

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// Namespace is colearn's own vocabulary (FEP-67ff); FEDERATION.md documents
// its terms.
const Namespace = "https://colearn.dev/ns#"

// ActorContext is the @context of colearn's actor documents: ActivityStreams,
// security/v1 for publicKey, Multikey for assertionMethod (FEP-521a), and the
// extension terms Mastodon and colearn use.
var ActorContext = []any{
	"https://www.w3.org/ns/activitystreams",
	"https://w3id.org/security/v1",
	"https://w3id.org/security/multikey/v1",
	map[string]any{
		"assertionMethod": map[string]any{
			"@id": "https://w3id.org/security#assertionMethod", "@type": "@id", "@container": "@set",
		},
		"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
		"toot":                      "http://joinmastodon.org/ns#",
		"discoverable":              "toot:discoverable",
		"indexable":                 "toot:indexable",
		"colearn":                   Namespace,
	},
}

// withContext turns the JSON object obj (as go-ap marshals it, without
// @context) into a JSON-LD document: @context first, then obj's properties,
// then the extension properties go-ap does not know.
func withContext(obj []byte, context any, extensions map[string]any) ([]byte, error) {
	obj = bytes.TrimSpace(obj)
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, errors.New("not a JSON object")
	}
	ctx, err := json.Marshal(context)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"@context":`)
	b.Write(ctx)
	if inner := bytes.TrimSpace(obj[1 : len(obj)-1]); len(inner) > 0 {
		b.WriteByte(',')
		b.Write(inner)
	}
	if len(extensions) > 0 {
		ext, err := json.Marshal(extensions)
		if err != nil {
			return nil, err
		}
		b.WriteByte(',')
		b.Write(ext[1 : len(ext)-1])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ContentTypeActivity is the media type colearn serves ActivityStreams as.
const ContentTypeActivity = "application/activity+json"

// WantsActivityJSON reports whether the request's Accept header asks for
// ActivityStreams (application/activity+json or application/ld+json) rather
// than HTML.
func WantsActivityJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/activity+json") || strings.Contains(a, "application/ld+json")
}

func writeActivityJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", ContentTypeActivity+"; charset=utf-8")
	w.Header().Set("Vary", "Accept")
	w.WriteHeader(status)
	w.Write(body)
}
