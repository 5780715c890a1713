package federation_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/pgtest"
)

// TestCheckAddress checks addresses as values only: none is ever connected to.
func TestCheckAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr   string
		public bool
	}{
		{"127.0.0.1", false},
		{"127.255.0.9", false},
		{"::1", false},
		{"10.0.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.254", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		// IANA's special-purpose registries, IPv4.
		{"192.0.0.1", false},
		{"192.0.0.170", false},
		{"192.0.2.1", false},
		{"192.88.99.1", false},
		{"198.18.0.1", false},
		{"198.19.255.254", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"240.0.0.1", false},
		{"254.1.2.3", false},
		// IPv6: Teredo, benchmarking, ORCHID, documentation, discard,
		// site-local, local-use NAT64, SRv6, IPv4-compatible, reserved.
		{"2001::1", false},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
		{"2001:2::1", false},
		{"2001:10::1", false},
		{"2001:20::1", false},
		{"2001:db8::1", false},
		{"3fff::1", false},
		{"100::1", false},
		{"100::ffff:ffff:ffff:ffff", false},
		{"fec0::1", false},
		{"64:ff9b:1::a00:1", false},
		{"64:ff9b:1:ffff::1", false},
		{"5f00::1", false},
		{"::7f00:1", false},
		{"4000::1", false},
		{"fe80::1%eth0", false},
		// Addresses carrying an IPv4 address are judged by it.
		{"64:ff9b::7f00:1", false},    // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"64:ff9b::c0a8:101", false},  // NAT64 of 192.168.1.1
		{"64:ff9b::5db8:d822", true},  // NAT64 of 93.184.216.34
		{"2002:7f00:1::1", false},     // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::1", false},  // 6to4 of 169.254.169.254
		{"2002:c612:1::1", false},     // 6to4 of 198.18.0.1
		{"2002:5db8:d822::1", true},   // 6to4 of 93.184.216.34
		{"::ffff:198.18.0.1", false},  // IPv4-mapped benchmarking
		{"93.184.216.34", true},
		{"192.0.1.1", true},
		{"192.31.196.1", true},
		{"198.20.0.1", true},
		{"239.255.255.255", false},
		{"2001:200::1", true},
		{"2620:4f:8000::1", true},
		{"2a00:1450:4001:80b::200e", true},
		{"2606:2800:220:1::1", true},
		{"100.128.0.1", true},
		{"172.32.0.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			ip := netip.MustParseAddr(tt.addr)
			err := federation.CheckAddress(ip, false)
			if tt.public && err != nil {
				t.Errorf("CheckAddress(%s) = %v, want nil", tt.addr, err)
			}
			if !tt.public && !errors.Is(err, federation.ErrForbiddenAddress) {
				t.Errorf("CheckAddress(%s) = %v, want ErrForbiddenAddress", tt.addr, err)
			}
			if err := federation.CheckAddress(ip, true); err != nil {
				t.Errorf("CheckAddress(%s, allowPrivate) = %v, want nil", tt.addr, err)
			}
		})
	}
	if err := federation.CheckAddress(netip.Addr{}, false); !errors.Is(err, federation.ErrForbiddenAddress) {
		t.Errorf("CheckAddress(zero Addr) = %v, want ErrForbiddenAddress", err)
	}
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	accepted *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// watchedServer is a live loopback server that counts connections and
// requests, to show a refused fetch never reached it.
type watchedServer struct {
	*httptest.Server
	accepted, conns, requests atomic.Int64
}

func newWatchedServer(t *testing.T, tls bool) *watchedServer {
	t.Helper()
	s := &watchedServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		w.Header().Set("Content-Type", "application/jrd+json")
		w.Write([]byte(`{"subject":"acct:alice@x","links":[]}`))
	}))
	s.Listener = countingListener{Listener: s.Listener, accepted: &s.accepted}
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *watchedServer) assertUntouched(t *testing.T) {
	t.Helper()
	if a, c, r := s.accepted.Load(), s.conns.Load(), s.requests.Load(); a+c+r != 0 {
		t.Errorf("server saw %d accepted connections, %d new connections, %d requests; want none", a, c, r)
	}
}

// TestClientRefusesLoopback asks a production client (AllowPrivate off) to
// fetch from live loopback servers: each fetch fails before any connection.
func TestClientRefusesLoopback(t *testing.T) {
	t.Parallel()
	plain := newWatchedServer(t, false)
	secure := newWatchedServer(t, true)
	_, plainPort, _ := net.SplitHostPort(plain.Listener.Addr().String())
	_, securePort, _ := net.SplitHostPort(secure.Listener.Addr().String())
	tests := []struct {
		name   string
		url    string
		scheme bool // refused for its scheme rather than its address
	}{
		{"http literal IP", "http://127.0.0.1:" + plainPort + "/users/alice", true},
		{"https literal IP", "https://127.0.0.1:" + securePort + "/users/alice", false},
		{"https localhost", "https://localhost:" + securePort + "/", false},
		{"https LOCALHOST", "https://LOCALHOST:" + securePort + "/", false},
		{"https sub.localhost", "https://a.localhost:" + securePort + "/", false},
		{"https IPv4-mapped IPv6", "https://[::ffff:127.0.0.1]:" + securePort + "/", false},
	}
	c := federation.NewClient(federation.ClientConfig{AllowPrivate: false})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Get(t.Context(), tt.url, "application/activity+json", nil)
			switch {
			case err == nil:
				t.Fatalf("Get(%s) succeeded", tt.url)
			case tt.scheme && !strings.Contains(err.Error(), "scheme"):
				t.Errorf("Get(%s) = %v, want a scheme error", tt.url, err)
			case !tt.scheme && !errors.Is(err, federation.ErrForbiddenAddress):
				t.Errorf("Get(%s) = %v, want ErrForbiddenAddress", tt.url, err)
			}
			err = c.Post(t.Context(), tt.url, []byte(`{}`), nil)
			if err == nil {
				t.Errorf("Post(%s) succeeded", tt.url)
			}
		})
	}
	t.Cleanup(func() {
		plain.assertUntouched(t)
		secure.assertUntouched(t)
	})
}

// TestClientRefusesAtDial fetches a name that /etc/hosts maps to loopback:
// it passes the URL check, so the refusal comes from the check of the
// resolved address at dial time (what stops DNS rebinding and redirects to
// such names). Skipped without such a name, since any other name would be
// looked up in DNS, off the machine.
func TestClientRefusesAtDial(t *testing.T) {
	t.Parallel()
	name := loopbackHostsName(t)
	srv := newWatchedServer(t, true)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	c := federation.NewClient(federation.ClientConfig{})
	_, err := c.Get(t.Context(), "https://"+net.JoinHostPort(name, port)+"/", "application/activity+json", nil)
	if !errors.Is(err, federation.ErrForbiddenAddress) {
		t.Errorf("Get via %s = %v, want ErrForbiddenAddress", name, err)
	}
	srv.assertUntouched(t)
}

// loopbackHostsName returns a name other than localhost that /etc/hosts
// maps to a loopback address, when the resolver reads files before DNS.
func loopbackHostsName(t *testing.T) string {
	t.Helper()
	if ns, err := os.ReadFile("/etc/nsswitch.conf"); err == nil {
		for _, line := range strings.Split(string(ns), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "hosts:" && f[1] != "files" {
				t.Skip("the resolver does not read /etc/hosts first")
			}
		}
	}
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(hosts), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		ip, err := netip.ParseAddr(f[0])
		if err != nil || !ip.IsLoopback() {
			continue
		}
		for _, name := range f[1:] {
			if n := strings.ToLower(name); n != "localhost" && !strings.HasSuffix(n, ".localhost") {
				return name
			}
		}
	}
	t.Skip("no name in /etc/hosts maps to loopback")
	return ""
}

// TestResolverRefusesLoopbackHandle resolves a handle on a live loopback
// server with a production client: refused before any connection.
func TestResolverRefusesLoopbackHandle(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	srv := newWatchedServer(t, true)
	for _, scheme := range []string{"https", "http"} {
		urls := federation.URLs{Scheme: scheme, Host: "colearn.example"}
		r := federation.NewResolver(pool, federation.NewClient(federation.ClientConfig{}), urls, federation.NewKeyStore(pool))
		for _, h := range []string{
			"@alice@" + srv.Listener.Addr().String(),
			"alice@localhost:" + strings.TrimPrefix(srv.URL, "https://127.0.0.1:"),
		} {
			if _, err := r.Handle(t.Context(), h); err == nil {
				t.Errorf("%s: Handle(%s) succeeded", scheme, h)
			} else if scheme == "https" && !errors.Is(err, federation.ErrForbiddenAddress) {
				t.Errorf("%s: Handle(%s) = %v, want ErrForbiddenAddress", scheme, h, err)
			}
		}
	}
	srv.assertUntouched(t)
}

// TestClientAllowPrivate shows the development switch does reach loopback,
// so the refusals above are due to the address check alone.
func TestClientAllowPrivate(t *testing.T) {
	t.Parallel()
	srv := newWatchedServer(t, false)
	c := federation.NewClient(federation.ClientConfig{AllowPrivate: true})
	body, err := c.Get(t.Context(), srv.URL+"/", "application/jrd+json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := federation.ParseJRD(body); err != nil {
		t.Fatal(err)
	}
	if srv.requests.Load() != 1 || srv.accepted.Load() != 1 {
		t.Errorf("requests %d, accepted %d; want 1 and 1", srv.requests.Load(), srv.accepted.Load())
	}
}
