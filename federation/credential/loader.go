package credential

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/piprate/json-gold/ld"
)

//go:embed contexts/*.jsonld
var contextFiles embed.FS

// ContextFiles maps every context URL colearn understands to its embedded
// file (see contexts/SOURCES.md for provenance).
var ContextFiles = map[string]string{
	"https://www.w3.org/ns/credentials/v2":                       "credentials-v2.jsonld",
	"https://www.w3.org/ns/credentials/examples/v2":              "credentials-examples-v2.jsonld",
	"https://w3id.org/security/data-integrity/v2":                "data-integrity-v2.jsonld",
	"https://w3id.org/security/multikey/v1":                      "multikey-v1.jsonld",
	"https://www.w3.org/ns/credentials/status/v1":                "credentials-status-v1.jsonld",
	"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.jsonld",
	"https://purl.imsglobal.org/spec/ob/v3p0/extensions.json":    "ob-v3p0-extensions.jsonld",
	"https://www.w3.org/ns/activitystreams":                      "activitystreams.jsonld",
	"https://w3id.org/security/v1":                               "security-v1.jsonld",
	"https://w3id.org/citizenship/v4rc1":                         "citizenship-v4rc1.jsonld",
	"https://www.w3.org/ns/did/v1":                               "did-v1.jsonld",
}

// Context URLs colearn's credentials use.
const (
	ContextVC       = "https://www.w3.org/ns/credentials/v2"
	ContextOB       = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
	ContextMultikey = "https://w3id.org/security/multikey/v1"
)

// ErrRemoteContext means a document names a JSON-LD context that is not
// embedded. colearn never fetches one: a context decides what the signed
// statements mean, so it must not come from whoever sent the document.
var ErrRemoteContext = errors.New("context is not one of the embedded contexts")

// Loader is a json-gold DocumentLoader serving the embedded contexts from
// memory and refusing every other URL. Its documents are parsed once; it is
// safe for concurrent use because json-gold only reads them.
type Loader struct {
	docs map[string]*ld.RemoteDocument
}

// NewLoader parses the embedded contexts. It fails only if the binary was
// built with a damaged context file.
func NewLoader() (*Loader, error) {
	l := &Loader{docs: make(map[string]*ld.RemoteDocument, len(ContextFiles))}
	for url, file := range ContextFiles {
		raw, err := contextFiles.ReadFile("contexts/" + file)
		if err != nil {
			return nil, fmt.Errorf("embedded context %s: %w", file, err)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("embedded context %s: %w", file, err)
		}
		l.docs[url] = &ld.RemoteDocument{DocumentURL: url, Document: doc}
	}
	return l, nil
}

// LoadDocument returns the embedded context for url, or ErrRemoteContext.
func (l *Loader) LoadDocument(url string) (*ld.RemoteDocument, error) {
	d, ok := l.docs[url]
	if !ok {
		return nil, fmt.Errorf("%s: %w", url, ErrRemoteContext)
	}
	return d, nil
}

// ContextBytes returns the embedded bytes of the context at url.
func ContextBytes(url string) ([]byte, bool) {
	file, ok := ContextFiles[url]
	if !ok {
		return nil, false
	}
	b, err := contextFiles.ReadFile("contexts/" + file)
	return b, err == nil
}
