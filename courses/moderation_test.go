package courses_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/pgtest"
)

func TestNormalizeHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"example.org", "example.org", true},
		{"  Example.ORG. ", "example.org", true},
		{"https://Spam.example:8443/users/x", "spam.example:8443", true},
		{"127.0.0.1:4000", "127.0.0.1:4000", true},
		{"@mastodon.social", "mastodon.social", true},
		{"", "", false},
		{"not a host!", "", false},
		{"exa_mple.org", "", false},
		{"-bad.org", "", false},
		{"example.org:123456", "", false},
		{"https://", "", false},
	} {
		got, err := courses.NormalizeHost(tc.in)
		var ve *courses.ValidationError
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if !tc.ok && !errors.As(err, &ve) {
			t.Errorf("NormalizeHost(%q) = %q, %v; want a ValidationError", tc.in, got, err)
		}
	}
}

func TestHostCovered(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		blocked, host string
		want          bool
	}{
		{"spam.example", "spam.example", true},
		{"spam.example", "spam.example:8443", true},
		{"spam.example", "a.b.spam.example", true},
		{"spam.example", "notspam.example", false},
		{"spam.example", "spam.example.org", false},
		{"127.0.0.1:4000", "127.0.0.1:4000", true},
		{"127.0.0.1:4000", "127.0.0.1:4001", false},
		{"127.0.0.1:4000", "127.0.0.1", false},
		{"127.0.0.1", "127.0.0.1:4001", true},
	} {
		if got := courses.HostCovered(tc.blocked, tc.host); got != tc.want {
			t.Errorf("HostCovered(%q, %q) = %v, want %v", tc.blocked, tc.host, got, tc.want)
		}
	}
}

func TestDomainPolicyFollowsTheTable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := courses.NewDomainPolicy(b.pool, time.Hour)
	if p.HostBlocked(b.ctx, "spam.example") {
		t.Fatal("blocked before any block")
	}
	if _, created, err := b.store.BlockDomain(b.ctx, b.pool, "Spam.Example", "spam", "cli"); err != nil || !created {
		t.Fatalf("block: created %v, %v", created, err)
	}
	// The snapshot is an hour old at most: not yet seen without Invalidate.
	if p.HostBlocked(b.ctx, "spam.example") {
		t.Error("the snapshot was read again before its refresh interval")
	}
	p.Invalidate()
	if !p.HostBlocked(b.ctx, "www.SPAM.example:443") || !p.IRIBlocked(b.ctx, "https://spam.example/users/x") {
		t.Error("not blocked after Invalidate")
	}
	if p.HostBlocked(b.ctx, "example.org") {
		t.Error("an unblocked host is blocked")
	}
	if _, created, err := b.store.BlockDomain(b.ctx, b.pool, "spam.example", "still spam", "ann"); err != nil || created {
		t.Errorf("blocking again: created %v, %v; want an update", created, err)
	}
	if blocks, err := b.store.DomainBlocks(b.ctx, b.pool); err != nil || len(blocks) != 1 || blocks[0].Reason != "still spam" || blocks[0].CreatedBy != "cli" {
		t.Errorf("blocks %+v, %v", blocks, err)
	}
	if err := b.store.UnblockDomain(b.ctx, b.pool, "spam.example"); err != nil {
		t.Fatal(err)
	}
	if err := b.store.UnblockDomain(b.ctx, b.pool, "spam.example"); !errors.Is(err, courses.ErrNotFound) {
		t.Errorf("unblocking twice: %v, want ErrNotFound", err)
	}
	p.Invalidate()
	if p.HostBlocked(b.ctx, "spam.example") {
		t.Error("still blocked after unblock")
	}
}

func TestFileReport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := courses.Report{ReporterIRI: "https://a.example/actor", TargetIRI: "https://here.example/users/x",
		PostIRI: "https://here.example/posts/1", Comment: "<script>x</script>rude <b>words</b>", Source: courses.SourceRemote, ActivityID: "https://a.example/flags/1"}
	saved, created, err := b.store.FileReport(b.ctx, b.pool, r)
	if err != nil || !created || saved.Comment != "rude words" || saved.State != courses.ReportOpen {
		t.Fatalf("report %+v, created %v, %v", saved, created, err)
	}
	// The same Flag again files nothing.
	if _, created, err := b.store.FileReport(b.ctx, b.pool, r); err != nil || created {
		t.Errorf("redelivered Flag: created %v, %v", created, err)
	}
	long := r
	long.ActivityID, long.Comment = "https://a.example/flags/2", strings.Repeat("x", 2001)
	var ve *courses.ValidationError
	if _, _, err := b.store.FileReport(b.ctx, b.pool, long); !errors.As(err, &ve) {
		t.Errorf("a long comment: %v, want a ValidationError", err)
	}
	if n := count(t, b, `SELECT count(*) FROM reports`); n != 1 {
		t.Errorf("%d reports stored, want 1", n)
	}
	done, err := b.store.ResolveReport(b.ctx, b.pool, saved.ID, "ann", "nothing to do")
	if err != nil || done.State != courses.ReportResolved || done.ResolvedBy != "ann" || done.ResolvedAt.IsZero() {
		t.Errorf("resolved %+v, %v", done, err)
	}
	if _, err := b.store.ResolveReport(b.ctx, b.pool, saved.ID, "ann", "again"); !errors.Is(err, courses.ErrNotFound) {
		t.Errorf("resolving twice: %v, want ErrNotFound", err)
	}
	open, err := b.store.Reports(b.ctx, b.pool, courses.ReportOpen, nil, 10)
	if err != nil || len(open) != 0 {
		t.Errorf("open reports after resolving: %+v, %v", open, err)
	}
	mine, err := b.store.Reports(b.ctx, b.pool, "", []string{}, 10)
	if err != nil || len(mine) != 0 {
		t.Errorf("a moderator of no course sees %+v, %v", mine, err)
	}
}

// BenchmarkHostBlocked measures a check against 2,000 blocks (the size of
// blocklists admins import), which the inbox makes once per request beside
// an RSA-2048 verification, and reports it as a fraction of a verification
// measured in the same run. Target: at most 0.05 of one.
func BenchmarkHostBlocked(b *testing.B) {
	pool := pgtest.NewPool(b)
	for i := range 2000 {
		if _, err := pool.Exec(context.Background(), `INSERT INTO domain_blocks (host, created_by) VALUES ($1, 'cli')`, fmt.Sprintf("spam%d.example", i)); err != nil {
			b.Fatal(err)
		}
	}
	p := courses.NewDomainPolicy(pool, time.Hour)
	ctx := context.Background()
	if !p.HostBlocked(ctx, "www.spam1999.example:443") || p.HostBlocked(ctx, "mastodon.social:443") {
		b.Fatal("the policy does not follow the blocks")
	}
	verify := rsaVerifyTime(b)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		p.HostBlocked(ctx, "mastodon.social:443")
	}
	per := time.Since(start) / time.Duration(b.N)
	ratio := float64(per) / float64(verify)
	b.ReportMetric(ratio, "x-rsa-verify")
	verdict := ""
	if ratio > 0.05 {
		verdict = " MISS"
	}
	b.Logf("host check %s = %.4f × an RSA-2048 verify (%s); target ≤ 0.05%s", per, ratio, verify, verdict)
}

// rsaVerifyTime measures one RSA-2048 PKCS#1 v1.5 verification.
func rsaVerifyTime(b *testing.B) time.Duration {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte("colearn"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	const n = 2000
	start := time.Now()
	for range n {
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start) / n
}
