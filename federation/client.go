package federation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// ErrTooLarge means a remote response exceeded the size cap.
var ErrTooLarge = errors.New("response too large")

// StatusError is a remote server's non-2xx answer.
type StatusError struct {
	URL        string
	StatusCode int
	RetryAfter string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%s answered %d", e.URL, e.StatusCode) }

// ClientConfig configures the outgoing HTTP client.
type ClientConfig struct {
	// AllowPrivate permits plain http and loopback/private addresses: the
	// development switch. Never on in production.
	AllowPrivate bool
	// UserAgent identifies colearn and the instance to peers.
	UserAgent string
	// Timeout bounds a whole request (default 10 s).
	Timeout time.Duration
	// MaxBody caps a response body (default 1 MiB).
	MaxBody int64
	// DomainBlockedFunc keeps fetches (and every redirect) away from
	// blocked servers: they fail with ErrDomainBlocked before any
	// connection (may be nil; see domainblock.go).
	DomainBlockedFunc DomainBlockedFunc
	// PaceFunc, when set, is called before each delivery (Post) is signed
	// and returns when it may go: deliveries wait their turn while the
	// instance is busy answering requests (internal/foreground). It fails
	// only when ctx ends.
	PaceFunc func(ctx context.Context) error
}

// Client makes federation's outgoing requests. The resolved IP of every
// connection is checked at dial time, so neither a hostile DNS answer nor a
// redirect can make it reach a private address.
type Client struct {
	cfg  ClientConfig
	http *http.Client
	// signSlots bounds the signatures made at once to the number of cores.
	// An RSA-2048 signature is about a millisecond of CPU; a hundred
	// deliveries signing at once would time-slice each other and all finish
	// together at the end, whereas in turn each POST leaves as soon as its
	// signature is done, while the next one is made.
	signSlots chan struct{}
}

// NewClient returns a Client.
func NewClient(cfg ClientConfig) *Client {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "colearn"
	}
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, err)
			}
			return CheckAddress(ap.Addr(), cfg.AllowPrivate)
		},
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
	}
	c := &Client{cfg: cfg, signSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	c.http = &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if err := blockedIRI(req.Context(), cfg.DomainBlockedFunc, req.URL.String()); err != nil {
				return err
			}
			return c.checkURL(req.URL)
		},
	}
	return c
}

// checkURL refuses schemes other than https (and http in development) and
// literal IP hosts that CheckAddress refuses, before any connection is made.
func (c *Client) checkURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.cfg.AllowPrivate:
	default:
		return fmt.Errorf("%s: scheme %q is not allowed", u, u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%s: no host", u)
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		if err := CheckAddress(ip, c.cfg.AllowPrivate); err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
	} else if h := strings.ToLower(u.Hostname()); !c.cfg.AllowPrivate && (h == "localhost" || strings.HasSuffix(h, ".localhost")) {
		return fmt.Errorf("%s: %w", u, ErrForbiddenAddress)
	}
	return nil
}

// Fetched is a remote document as it was served.
type Fetched struct {
	Body []byte
	// URL is where the document was finally served from, after redirects.
	URL string
	// ContentType is the response's Content-Type header.
	ContentType string
}

// Fetch GETs rawURL (signed when signer is not nil), following redirects to
// public addresses only, and returns the body (capped at MaxBody), the URL
// it was finally served from and its media type. Non-2xx answers are a
// *StatusError; the error text may name addresses and dial errors, so it
// belongs in logs, never in an answer to a peer.
func (c *Client) Fetch(ctx context.Context, rawURL, accept string, signer *Signer) (Fetched, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Fetched{}, fmt.Errorf("fetch %q: %w", rawURL, err)
	}
	if err := c.checkURL(u); err != nil {
		return Fetched{}, fmt.Errorf("fetch: %w", err)
	}
	if err := blockedIRI(ctx, c.cfg.DomainBlockedFunc, rawURL); err != nil {
		return Fetched{}, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Fetched{}, err
	}
	req.Header.Set("Accept", accept)
	body, resp, err := c.do(req, nil, signer)
	if err != nil {
		return Fetched{}, err
	}
	return Fetched{Body: body, URL: resp.Request.URL.String(), ContentType: resp.Header.Get("Content-Type")}, nil
}

// Get fetches rawURL like Fetch and returns the body alone, for documents
// whose identity does not matter (WebFinger answers).
func (c *Client) Get(ctx context.Context, rawURL, accept string, signer *Signer) ([]byte, error) {
	f, err := c.Fetch(ctx, rawURL, accept, signer)
	return f.Body, err
}

// Post delivers body to inbox, signed by signer. Non-2xx answers are a
// *StatusError carrying Retry-After.
func (c *Client) Post(ctx context.Context, inbox string, body []byte, signer *Signer) error {
	u, err := url.Parse(inbox)
	if err != nil {
		return fmt.Errorf("deliver to %q: %w", inbox, err)
	}
	if err := c.checkURL(u); err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	if c.cfg.PaceFunc != nil {
		if err := c.cfg.PaceFunc(ctx); err != nil {
			return fmt.Errorf("deliver to %s: %w", inbox, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/activity+json")
	_, _, err = c.do(req, body, signer)
	return err
}

func (c *Client) do(req *http.Request, body []byte, signer *Signer) ([]byte, *http.Response, error) {
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if signer != nil {
		select {
		case c.signSlots <- struct{}{}:
		case <-req.Context().Done():
			return nil, nil, fmt.Errorf("sign %s %s: %w", req.Method, req.URL, req.Context().Err())
		}
		err := signer.Sign(req, body)
		<-c.signSlots
		if err != nil {
			return nil, nil, err
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBody+1))
	if err != nil {
		return nil, resp, fmt.Errorf("read %s: %w", req.URL, err)
	}
	if int64(len(b)) > c.cfg.MaxBody {
		return nil, resp, fmt.Errorf("%s: %w", req.URL, ErrTooLarge)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return b, resp, &StatusError{URL: req.URL.String(), StatusCode: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	}
	return b, resp, nil
}
