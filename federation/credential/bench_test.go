package credential_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/colearn/colearn/federation/credential"
)

// BenchmarkCredentials measures issuing and verifying an Open Badges
// credential on one goroutine (one core), against raw Ed25519 sign and
// verify rates measured in the same run. Target: verifying ≥ 1,000
// credentials/s.
//
//	go test -run='^$' -bench=Credentials -benchtime=2000x ./federation/credential/
func BenchmarkCredentials(b *testing.B) {
	is := newIssuer(b)
	doc := is.badge().Document()
	signed := is.sign(doc)
	v := is.verifier()
	if r := v.Verify(context.Background(), signed); !r.Valid {
		b.Fatalf("%+v", r.Checks)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 64)
	sig := ed25519.Sign(priv, msg)
	n := b.N
	rate := func(f func()) float64 {
		start := time.Now()
		for i := 0; i < n; i++ {
			f()
		}
		return float64(n) / time.Since(start).Seconds()
	}
	b.ResetTimer()
	issue := rate(func() {
		if _, err := is.canon.AddProof(doc, is.key, credential.ProofOptions{VerificationMethod: is.vm.ID, Created: time.Now()}); err != nil {
			b.Fatal(err)
		}
	})
	rawSign := rate(func() { ed25519.Sign(priv, msg) })
	verify := rate(func() {
		if !v.Verify(context.Background(), signed).Valid {
			b.Fatal("invalid")
		}
	})
	rawVerify := rate(func() { ed25519.Verify(pub, msg, sig) })
	b.StopTimer()
	b.ReportMetric(issue, "issued/s")
	b.ReportMetric(issue/rawSign, "issue_ratio")
	b.ReportMetric(verify, "verified/s")
	b.ReportMetric(verify/rawVerify, "verify_ratio")
	if n == 1 {
		return // the calibration run
	}
	verdict := "ok"
	if verify < 1000 {
		verdict = "MISS"
	}
	b.Logf("issue %.0f/s (raw Ed25519 sign %.0f/s, ratio %.3f); verify %.0f/s (raw Ed25519 verify %.0f/s, ratio %.3f; the credential's status list is verified too); target verify ≥ 1000/s: %s",
		issue, rawSign, issue/rawSign, verify, rawVerify, verify/rawVerify, verdict)
}
