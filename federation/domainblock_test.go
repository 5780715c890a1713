package federation_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/colearn/colearn/federation"
)

// blockHosts blocks the hosts given, exactly.
func blockHosts(hosts ...string) federation.DomainBlockedFunc {
	return func(_ context.Context, host string) bool {
		for _, h := range hosts {
			if h == host {
				return true
			}
		}
		return false
	}
}

func TestVerifierRefusesBlockedDomainBeforeFetchingItsKey(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	keys := &staticKeys{cur: map[string]federation.PublicKey{testKeyID: pubKey(key)}}
	v := &federation.Verifier{Keys: countingKeys{keys, new(atomic.Int32)}, DomainBlockedFunc: blockHosts("remote.example")}
	body := []byte(`{"type":"Follow"}`)
	r := serverSide(t, signedRequest(t, key, http.MethodPost, "https://here.example/inbox", body), body)
	_, err := v.Verify(context.Background(), r, body)
	if !errors.Is(err, federation.ErrDomainBlocked) {
		t.Fatalf("Verify: %v, want ErrDomainBlocked", err)
	}
	if n := v.Keys.(countingKeys).n.Load(); n != 0 {
		t.Errorf("the blocked server's key was resolved %d times", n)
	}
	// The handler's answer is 403, which Mastodon does not retry.
	w := httptest.NewRecorder()
	federation.RefuseSignature(w, r, err, nil, nil)
	if w.Code != http.StatusForbidden {
		t.Errorf("RefuseSignature answered %d, want 403", w.Code)
	}
	// Another host goes on being verified.
	v.DomainBlockedFunc = blockHosts("other.example")
	r = serverSide(t, signedRequest(t, key, http.MethodPost, "https://here.example/inbox", body), body)
	if _, err := v.Verify(context.Background(), r, body); err != nil {
		t.Errorf("Verify with remote.example not blocked: %v", err)
	}
}

type countingKeys struct {
	keys federation.KeyResolver
	n    *atomic.Int32
}

func (c countingKeys) ResolveKey(ctx context.Context, keyID string, refresh bool) (federation.PublicKey, error) {
	c.n.Add(1)
	return c.keys.ResolveKey(ctx, keyID, refresh)
}

func TestClientFetchesNothingFromBlockedDomain(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	blocked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(blocked.Close)
	open := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, blocked.URL+"/users/x", http.StatusFound)
	}))
	t.Cleanup(open.Close)
	host := strings.TrimPrefix(blocked.URL, "http://")
	c := federation.NewClient(federation.ClientConfig{AllowPrivate: true, DomainBlockedFunc: blockHosts(host)})
	ctx := context.Background()
	if _, err := c.Get(ctx, blocked.URL+"/users/x", federation.AcceptActivity, nil); !errors.Is(err, federation.ErrDomainBlocked) {
		t.Errorf("GET from the blocked server: %v, want ErrDomainBlocked", err)
	}
	if _, err := c.Get(ctx, open.URL+"/go", federation.AcceptActivity, nil); !errors.Is(err, federation.ErrDomainBlocked) {
		t.Errorf("GET redirected to the blocked server: %v, want ErrDomainBlocked", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the blocked server was reached %d times", n)
	}
	unblocked := federation.NewClient(federation.ClientConfig{AllowPrivate: true})
	if _, err := unblocked.Get(ctx, blocked.URL+"/users/x", federation.AcceptActivity, nil); err != nil || hits.Load() != 1 {
		t.Errorf("without the block: %v, %d hits", err, hits.Load())
	}
}
