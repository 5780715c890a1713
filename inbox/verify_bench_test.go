package inbox_test

// Benchmarks of the CPU cost of accepting a signed activity, without HTTP or
// the database: what the inbox does between reading the body and storing it.
//
// They live in inbox rather than federation so that the body is decoded by
// ParseEnvelope, the parser the inbox really runs, instead of a stand-in
// struct: the figure is then the inbox's own verify path.
//
// The design target (DESIGN.md, "Performance targets") is stated as a ratio
// to the raw RSA-2048 verify rate measured in the same run, so
// BenchmarkVerifyRatio reports that ratio; the two others give the absolute
// figures. Run them with
//
//	go test -run='^$' -bench=Verify -benchtime=2s ./inbox/

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/inbox"
)

// benchKeys is an in-memory KeyResolver: the benchmark measures verifying,
// not fetching keys.
type benchKeys map[string]federation.PublicKey

func (k benchKeys) ResolveKey(_ context.Context, keyID string, _ bool) (federation.PublicKey, error) {
	pk, ok := k[keyID]
	if !ok {
		return federation.PublicKey{}, fmt.Errorf("no key %s", keyID)
	}
	return pk, nil
}

// benchSigned is one signed POST to a shared inbox, as the server receives
// it, and the verifier that accepts it.
type benchSigned struct {
	req      *http.Request
	body     []byte
	verifier *federation.Verifier
	actor    string
	key      *rsa.PrivateKey
}

// benchNote is a Create(Note) of about 1 KB, shaped like Mastodon's.
func benchNote(actor string) []byte {
	id := actor + "/statuses/113"
	note := map[string]any{
		"@context":  []any{"https://www.w3.org/ns/activitystreams", map[string]any{"sensitive": "as:sensitive"}},
		"id":        id + "/activity",
		"type":      "Create",
		"actor":     actor,
		"published": "2025-03-01T12:00:00Z",
		"to":        []string{"https://www.w3.org/ns/activitystreams#Public"},
		"cc":        []string{actor + "/followers"},
		"object": map[string]any{
			"id":           id,
			"type":         "Note",
			"attributedTo": actor,
			"published":    "2025-03-01T12:00:00Z",
			"to":           []string{"https://www.w3.org/ns/activitystreams#Public"},
			"cc":           []string{actor + "/followers"},
			"sensitive":    false,
			"content":      "<p>" + strings.Repeat("Spaced repetition works better with peers. ", 12) + "</p>",
		},
	}
	b, err := json.Marshal(note)
	if err != nil {
		panic(err)
	}
	return b
}

func setupSigned(b *testing.B) *benchSigned {
	b.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	actor := "https://peer.example/users/ada"
	keyID := federation.MainKey(actor)
	body := benchNote(actor)
	if len(body) < 900 || len(body) > 1300 {
		b.Fatalf("body is %d bytes, want about 1 KB", len(body))
	}
	req, err := http.NewRequest(http.MethodPost, "https://learn.example/inbox", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/activity+json")
	if err := (federation.Signer{KeyID: keyID, Key: key}).Sign(req, body); err != nil {
		b.Fatal(err)
	}
	// A server's request carries the host in Request.Host, not in the map.
	req.Header.Del("Host")
	req.Body = nil
	signedAt, err := http.ParseTime(req.Header.Get("Date"))
	if err != nil {
		b.Fatal(err)
	}
	v := &federation.Verifier{
		Keys:    benchKeys{keyID: {ID: keyID, Owner: actor, Key: &key.PublicKey}},
		NowFunc: func() time.Time { return signedAt.Add(time.Second) },
	}
	return &benchSigned{req: req, body: body, verifier: v, actor: actor, key: key}
}

// verifyPath is what the inbox does to a request whose body it has read:
// signature (header parse, Date, Digest, RSA) and envelope. The request is
// a shallow copy with cloned headers, as each delivery is a fresh request.
func (s *benchSigned) verifyPath(ctx context.Context) error {
	r := *s.req
	r.Header = s.req.Header.Clone()
	key, err := s.verifier.Verify(ctx, &r, s.body)
	if err != nil {
		return err
	}
	env, err := inbox.ParseEnvelope(s.body)
	if err != nil {
		return err
	}
	if env.Actor != key.Owner {
		return fmt.Errorf("actor %s signed by %s", env.Actor, key.Owner)
	}
	return nil
}

// rawFixture is one RSA-2048 PKCS#1 v1.5 signature over a SHA-256 digest.
type rawFixture struct {
	pub    *rsa.PublicKey
	digest []byte
	sig    []byte
}

func (s *benchSigned) raw(b *testing.B) rawFixture {
	b.Helper()
	sum := sha256.Sum256(s.body)
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	return rawFixture{pub: &s.key.PublicKey, digest: sum[:], sig: sig}
}

func (f rawFixture) verify() error { return rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, f.digest, f.sig) }

// BenchmarkVerify measures the inbox's full verify path of one signed
// Create(Note) of about 1 KB.
func BenchmarkVerify(b *testing.B) {
	s := setupSigned(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.verifyPath(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSAVerifyRaw measures rsa.VerifyPKCS1v15 alone, RSA-2048 over a
// SHA-256 digest: the floor of any signature check.
func BenchmarkRSAVerifyRaw(b *testing.B) {
	f := setupSigned(b).raw(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := f.verify(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRatio runs b.N verify paths and b.N raw verifies in the
// same run and reports ratio = verify-path rate ÷ raw rate (target ≥ 0.55),
// so that the figure does not depend on the machine. The two alternate in
// short stretches, so that other load on the machine weighs on both alike.
func BenchmarkVerifyRatio(b *testing.B) {
	const stretch = 50
	s := setupSigned(b)
	f := s.raw(b)
	ctx := context.Background()
	// Warm both paths so neither pays first-use costs inside its timing.
	if err := s.verifyPath(ctx); err != nil {
		b.Fatal(err)
	}
	if err := f.verify(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var pathTime, rawTime time.Duration
	for done := 0; done < b.N; done += stretch {
		n := min(stretch, b.N-done)
		start := time.Now()
		for range n {
			if err := s.verifyPath(ctx); err != nil {
				b.Fatal(err)
			}
		}
		mid := time.Now()
		for range n {
			if err := f.verify(); err != nil {
				b.Fatal(err)
			}
		}
		pathTime += mid.Sub(start)
		rawTime += time.Since(mid)
	}
	b.StopTimer()
	pathRate := float64(b.N) / pathTime.Seconds()
	rawRate := float64(b.N) / rawTime.Seconds()
	b.ReportMetric(pathRate, "verify/s")
	b.ReportMetric(rawRate, "raw-verify/s")
	b.ReportMetric(pathRate/rawRate, "ratio")
}
