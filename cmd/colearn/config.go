package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is everything the instance is configured with.
type config struct {
	Host            string
	Listen          string
	DataDir         string
	DatabaseURL     string
	Dev             bool
	LogLevel        string
	AuthorizedFetch bool
	SignatureWindow time.Duration
	InboxRetention  time.Duration
	InboxWorkers    int
	// InboxBacklog is how many accepted activities may wait, ready to
	// apply, before the inbox answers 429 to the senders sending the most
	// (503 to all past twice it); 0 or less never refuses.
	InboxBacklog int64
	// MetricsListen is where /metrics is served, apart from the public
	// listener; empty disables it.
	MetricsListen string
	// ClientAddrHeader names the header a reverse proxy puts the client's
	// address in; sign-in throttling counts by it. Empty: the peer address.
	ClientAddrHeader string
	// DeliveryRetention is how long finished delivery jobs are kept.
	DeliveryRetention time.Duration
	// CohostRefresh is how often co-hosted courses are refetched (cohost.go);
	// zero never.
	CohostRefresh time.Duration

	// retryDelay overrides the delivery backoff; tests shorten it.
	retryDelay func(attempt int) time.Duration
}

// envOr returns the environment variable name, or def when it is unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envBool(name string) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// databaseFlags registers the flags every database-using command shares.
func databaseFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.DataDir, "data", envOr("COLEARN_DATA", "./data"), "data folder; holds the private PostgreSQL cluster when DATABASE_URL is unset (COLEARN_DATA)")
	// The environment's value is read after parsing, not shown as the
	// flag's default: --help must not print a password.
	fs.StringVar(&c.DatabaseURL, "database-url", "", "PostgreSQL connection URL; unset runs a private cluster in the data folder (DATABASE_URL)")
	fs.StringVar(&c.LogLevel, "log-level", envOr("COLEARN_LOG_LEVEL", "info"), "debug, info, warn or error (COLEARN_LOG_LEVEL)")
}

// serveFlags registers serve's flags.
func serveFlags(fs *flag.FlagSet, c *config) {
	databaseFlags(fs, c)
	fs.StringVar(&c.Host, "host", envOr("COLEARN_HOST", ""), "public host[:port] that goes into every ActivityPub id, e.g. learn.example.org (COLEARN_HOST; default: localhost and the listen port)")
	fs.StringVar(&c.Listen, "listen", envOr("COLEARN_LISTEN", "127.0.0.1:8080"), "address to listen on (COLEARN_LISTEN)")
	fs.BoolVar(&c.Dev, "dev", envBool("COLEARN_DEV"), "development mode: plain http ids and federation with loopback and private addresses; never in production (COLEARN_DEV=1)")
	fs.BoolVar(&c.AuthorizedFetch, "authorized-fetch", envBool("COLEARN_AUTHORIZED_FETCH"), "require signed GETs for actors and collections (COLEARN_AUTHORIZED_FETCH=1)")
	window := envOr("COLEARN_SIGNATURE_WINDOW", "1h")
	d, err := time.ParseDuration(window)
	if err != nil {
		d = time.Hour
	}
	fs.DurationVar(&c.SignatureWindow, "signature-window", d, "how far a signed request's Date may be from now (COLEARN_SIGNATURE_WINDOW)")
	retention, err := time.ParseDuration(envOr("COLEARN_INBOX_RETENTION", "336h"))
	if err != nil {
		retention = 336 * time.Hour
	}
	fs.DurationVar(&c.InboxRetention, "inbox-retention", retention, "how long applied inbox activities are kept before they are pruned; 0 or less keeps them (COLEARN_INBOX_RETENTION)")
	workers, err := strconv.Atoi(envOr("COLEARN_INBOX_WORKERS", "256"))
	if err != nil {
		workers = 256
	}
	fs.IntVar(&c.InboxWorkers, "inbox-workers", workers, "how many remote actors' activities this process applies at once (COLEARN_INBOX_WORKERS)")
	backlog, err := strconv.ParseInt(envOr("COLEARN_INBOX_BACKLOG", "10000"), 10, 64)
	if err != nil {
		backlog = 10000
	}
	fs.Int64Var(&c.InboxBacklog, "inbox-backlog", backlog, "how many accepted activities may wait, ready to apply, before the inbox answers 429 (Retry-After) to the senders sending the most, and 503 to all past twice it; 0 never refuses (COLEARN_INBOX_BACKLOG)")
	fs.StringVar(&c.MetricsListen, "metrics-listen", envOr("COLEARN_METRICS_LISTEN", "127.0.0.1:9464"), "address of the Prometheus /metrics listener, apart from the public one; empty disables it (COLEARN_METRICS_LISTEN)")
	fs.StringVar(&c.ClientAddrHeader, "client-addr-header", envOr("COLEARN_CLIENT_ADDR_HEADER", ""), "header your reverse proxy sets to the client address (e.g. X-Real-IP), used to throttle sign-ins; empty: the connection's address (COLEARN_CLIENT_ADDR_HEADER)")
	retention, err = time.ParseDuration(envOr("COLEARN_DELIVERY_RETENTION", "24h"))
	if err != nil {
		retention = 24 * time.Hour
	}
	fs.DurationVar(&c.DeliveryRetention, "delivery-retention", retention, "how long finished delivery jobs (completed, cancelled, discarded) are kept before River deletes them (COLEARN_DELIVERY_RETENTION)")
	refresh, err := time.ParseDuration(envOr("COLEARN_COHOST_REFRESH", "1h"))
	if err != nil {
		refresh = time.Hour
	}
	fs.DurationVar(&c.CohostRefresh, "cohost-refresh", refresh, "how often the mirrors of co-hosted courses are refetched from their servers; 0 never (COLEARN_COHOST_REFRESH)")
}

// newFlagSet makes a flag set that prints its usage to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: colearn %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// finish validates the configuration and fills in defaults.
func (c *config) finish() error {
	if c.Host == "" {
		_, port, err := net.SplitHostPort(c.Listen)
		if err != nil {
			return fmt.Errorf("--listen %q: %w", c.Listen, err)
		}
		if !c.Dev {
			return errors.New("--host (COLEARN_HOST) is required: the public host[:port] of this instance, e.g. learn.example.org; for a local try-out add --dev")
		}
		c.Host = "localhost:" + port
	}
	if strings.ContainsAny(c.Host, "/@ ") || strings.Contains(c.Host, "://") {
		return fmt.Errorf("--host %q must be a bare host[:port], without scheme or path", c.Host)
	}
	c.Host = strings.ToLower(c.Host)
	return nil
}

func (c *config) scheme() string {
	if c.Dev {
		return "http"
	}
	return "https"
}

// deliveryPoll is how often due retries are looked for: the outbox's
// default, or often when tests shorten the backoff.
func (c *config) deliveryPoll() time.Duration {
	if c.retryDelay != nil {
		return 20 * time.Millisecond
	}
	return 0
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// instanceConfig parses the flags of the commands that run an instance
// (serve, worker) and validates them.
func instanceConfig(name, synopsis string, args []string, stderr io.Writer) (config, error) {
	var c config
	fs := newFlagSet(name, synopsis, stderr)
	serveFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.finish()
}

// warnIfDev says loudly that development mode is on.
func warnIfDev(c config, log *slog.Logger) {
	if c.Dev {
		log.Warn("DEVELOPMENT MODE: plain http ids and federation with loopback/private addresses are allowed; never use --dev in production")
	}
}
