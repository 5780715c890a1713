package credential_test

import (
	"context"
	"testing"
)

// FuzzVerify feeds arbitrary documents to the verifier: it must never
// panic, fetch anything or call a mutated credential valid.
//
//	go test -fuzz=FuzzVerify ./federation/credential/
func FuzzVerify(f *testing.F) {
	is := newIssuer(f)
	valid := is.sign(is.badge().Document())
	f.Add(valid)
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiableCredential"}`))
	f.Add([]byte(`{"proof":[{},{}]}`))
	v := is.verifier()
	f.Fuzz(func(t *testing.T, data []byte) {
		r := v.Verify(context.Background(), data)
		if r.Valid && string(data) != string(valid) {
			// Only re-encodings of the same JSON may verify; check the
			// canonical statements are those signed by re-verifying the
			// original's claims.
			if r.Achievement != "Go basics" || r.Subject != "https://other.example/users/bea" || r.IssuerID != courseIRI {
				t.Fatalf("a mutated document verifies with other claims: %+v", r)
			}
		}
	})
}
