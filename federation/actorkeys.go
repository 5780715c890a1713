package federation

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/multiformats/go-multibase"
	"github.com/valyala/fastjson"
)

// actorKeys collects the RSA keys an actor document lists as its own:
// publicKey given as one object or an array of them (Fedify publishes
// several), then Multikeys in assertionMethod (FEP-521a). A key counts only
// when it is embedded (an id alone carries no key), its id is on the
// actor's origin, and it names no other owner or controller. go-ap keeps
// a single publicKey and drops assertionMethod, so this reads the raw
// document.
func actorKeys(doc *fastjson.Value, actorIRI string) []ActorKey {
	var out []ActorKey
	seen := map[string]bool{}
	add := func(k ActorKey) {
		if !seen[k.ID] {
			seen[k.ID] = true
			out = append(out, k)
		}
	}
	for _, o := range objects(doc.Get("publicKey")) {
		id, owner := str(o.Get("id")), str(o.Get("owner"))
		if id == "" || !SameOrigin(id, actorIRI) || owner != "" && owner != actorIRI {
			continue
		}
		key, err := ParsePublicKeyPEM(str(o.Get("publicKeyPem")))
		if err != nil {
			continue
		}
		add(ActorKey{ID: id, PEM: str(o.Get("publicKeyPem")), Key: key})
	}
	for _, o := range objects(doc.Get("assertionMethod")) {
		id, controller := str(o.Get("id")), str(o.Get("controller"))
		if id == "" || !SameOrigin(id, actorIRI) || controller != "" && controller != actorIRI {
			continue
		}
		key, err := DecodeRSAMultikey(str(o.Get("publicKeyMultibase")))
		if err != nil {
			continue
		}
		der, _ := x509.MarshalPKIXPublicKey(key)
		add(ActorKey{ID: id, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), Key: key})
	}
	return out
}

// DecodeRSAMultikey decodes a publicKeyMultibase value holding an RSA key:
// multibase of the multicodec rsa-pub prefix (0x1205, varint 0x85 0x24)
// and the PKCS#1 DER key. Anything else, Ed25519 included, is an error.
func DecodeRSAMultikey(s string) (*rsa.PublicKey, error) {
	if s == "" {
		return nil, errors.New("no publicKeyMultibase")
	}
	_, b, err := multibase.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("decode multikey: %w", err)
	}
	if len(b) < 3 || b[0] != 0x85 || b[1] != 0x24 {
		return nil, errors.New("multikey is not an RSA public key")
	}
	k, err := x509.ParsePKCS1PublicKey(b[2:])
	if err != nil {
		return nil, fmt.Errorf("decode RSA multikey: %w", err)
	}
	return k, nil
}

// objects returns v when it is an object, the objects in it when it is an
// array, and nothing otherwise.
func objects(v *fastjson.Value) []*fastjson.Value {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeObject:
		return []*fastjson.Value{v}
	case fastjson.TypeArray:
		var out []*fastjson.Value
		for _, it := range v.GetArray() {
			if it.Type() == fastjson.TypeObject {
				out = append(out, it)
			}
		}
		return out
	}
	return nil
}

// str returns v's value when it is a JSON string, else "".
func str(v *fastjson.Value) string {
	if v == nil || v.Type() != fastjson.TypeString {
		return ""
	}
	return string(v.GetStringBytes())
}
