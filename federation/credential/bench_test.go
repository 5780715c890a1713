package credential_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/colearn/colearn/federation/credential"
)

// rate is a benchmark loop's throughput: per second of wall time, and per
// second of the process's CPU time (every thread, the garbage collector's
// included), which is the rate one core sustains however many cores the run
// had and however busy the machine was.
type rate struct{ wall, perCore float64 }

func measure(n int, f func(i int)) rate {
	cpu0, start := processCPU(), time.Now()
	for i := 0; i < n; i++ {
		f(i)
	}
	wall, cpu := time.Since(start), processCPU()-cpu0
	r := rate{wall: float64(n) / wall.Seconds(), perCore: float64(n) / wall.Seconds()}
	if cpu > 0 {
		r.perCore = float64(n) / cpu.Seconds()
	}
	return r
}

// BenchmarkCredentials measures issuing and verifying Open Badges
// credentials on one goroutine, against raw Ed25519 sign and verify rates
// measured in the same run. Every iteration issues, and later verifies, a
// different credential (its own id, learner, status index and proof time),
// as a server meets them, so no cache keyed by a credential's content can
// flatter the figures; all share the issuer's status list, which is
// verified once and remembered by its bytes, as in the server, and one
// structure, as an issuer's credentials do, so their expansion comes from
// one template (expansiontemplate.go) while each is still canonicalised,
// hashed and verified in full. Target: verifying ≥ 1,000 credentials/s
// per core (per CPU-second).
//
//	go test -run='^$' -bench=Credentials -benchtime=2000x -cpu=1 ./federation/credential/
func BenchmarkCredentials(b *testing.B) {
	is := newIssuer(b)
	v := is.verifier()
	if r := v.Verify(context.Background(), is.sign(is.badge().Document())); !r.Valid {
		b.Fatalf("%+v", r.Checks)
	}
	n := b.N
	docs := make([]map[string]any, n)
	for i := range docs {
		bd := is.badge()
		bd.ID = fmt.Sprintf("https://learn.example/credentials/bench-%d", i)
		bd.Subject = fmt.Sprintf("https://other.example/users/learner-%d", i)
		bd.Status = credential.StatusEntry(courseIRI+"/status/revocation", i%credential.StatusListBits)
		docs[i] = bd.Document()
	}
	signed := make([]map[string]any, n)
	created := time.Now().Add(-time.Duration(n) * time.Second)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 64)
	sig := ed25519.Sign(priv, msg)
	b.ResetTimer()
	issue := measure(n, func(i int) {
		s, err := is.canon.AddProof(docs[i], is.key, credential.ProofOptions{VerificationMethod: is.vm.ID, Created: created.Add(time.Duration(i) * time.Second)})
		if err != nil {
			b.Fatal(err)
		}
		signed[i] = s
	})
	rawSign := measure(n, func(int) { ed25519.Sign(priv, msg) })
	b.StopTimer()
	data := make([][]byte, n)
	for i, s := range signed {
		data[i], _ = json.Marshal(s)
	}
	b.StartTimer()
	verify := measure(n, func(i int) {
		if r := v.Verify(context.Background(), data[i]); !r.Valid {
			b.Fatalf("credential %d: %+v", i, r.Checks)
		}
	})
	rawVerify := measure(n, func(int) { ed25519.Verify(pub, msg, sig) })
	b.StopTimer()
	b.ReportMetric(issue.perCore, "issued/core-s")
	b.ReportMetric(issue.perCore/rawSign.perCore, "issue_ratio")
	b.ReportMetric(verify.perCore, "verified/core-s")
	b.ReportMetric(verify.perCore/rawVerify.perCore, "verify_ratio")
	if n == 1 {
		return // the calibration run
	}
	verdict := "ok"
	if verify.perCore < 1000 {
		verdict = "MISS"
	}
	b.Logf("per core (per CPU-second): issue %.0f/s (raw Ed25519 sign %.0f/s, ratio %.4f); verify %.0f/s (raw Ed25519 verify %.0f/s, ratio %.4f); target verify ≥ 1000/s per core: %s",
		issue.perCore, rawSign.perCore, issue.perCore/rawSign.perCore, verify.perCore, rawVerify.perCore, verify.perCore/rawVerify.perCore, verdict)
	b.Logf("wall clock: issue %.0f/s, verify %.0f/s (raw sign %.0f/s, raw verify %.0f/s)", issue.wall, verify.wall, rawSign.wall, rawVerify.wall)
}
