package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/inbox"
	"github.com/colearn/colearn/web"
)

// instance is one running colearn: its stores, federation machinery and
// HTTP handler. Several can live in one process (the federation tests run
// three), since nothing is global.
type instance struct {
	cfg      config
	pool     *pgxpool.Pool
	log      *slog.Logger
	urls     federation.URLs
	courses  *courses.Store
	keys     *federation.KeyStore
	client   *federation.Client
	resolver *federation.Resolver
	verifier *federation.Verifier
	metrics  *metrics
	web      *web.Handler
	handler  http.Handler
}

// newInstance wires an instance on an open, migrated database.
func newInstance(ctx context.Context, cfg config, pool *pgxpool.Pool, log *slog.Logger) (*instance, error) {
	in := &instance{
		cfg:     cfg,
		pool:    pool,
		log:     log,
		urls:    federation.URLs{Scheme: cfg.scheme(), Host: cfg.Host},
		courses: courses.NewStore(pool),
		keys:    federation.NewKeyStore(pool),
		metrics: newMetrics(),
	}
	if err := in.keys.EnsureInstanceKeys(ctx); err != nil {
		return nil, fmt.Errorf("instance actor keys: %w", err)
	}
	in.client = federation.NewClient(federation.ClientConfig{
		AllowPrivate: cfg.Dev,
		UserAgent:    fmt.Sprintf("colearn/%s (+%s)", version, in.urls.Base()),
	})
	in.resolver = federation.NewResolver(pool, in.client, in.urls, in.keys)
	in.verifier = &federation.Verifier{Keys: in.resolver, Window: cfg.SignatureWindow}
	in.web = web.New(web.Config{
		Pool:         pool,
		Store:        in.courses,
		RegisterFunc: in.register,
		Host:         cfg.Host,
		Secure:       !cfg.Dev,
		Logger:       log,
	})
	in.handler = in.routes()
	return in, nil
}

// register creates an account and its actor keys in one transaction, under
// the instance's registration rules.
func (in *instance) register(ctx context.Context, nu courses.NewUser) (courses.User, error) {
	return createAccount(ctx, in.pool, in.keys, nu, in.courses.Register)
}

func (in *instance) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RealIP, middleware.Recoverer, in.metrics.instrument)
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	r.Get("/readyz", in.ready)
	r.Method(http.MethodGet, "/metrics", in.metrics.handler())
	fed := &federation.Handler{
		URLs: in.urls, Accounts: in.courses, Keys: in.keys, Verifier: in.verifier,
		AuthorizedFetch: in.cfg.AuthorizedFetch, SignatureFailureFunc: in.metrics.signatureFailed,
		Version: version, Logger: in.log,
	}
	fed.Routes(r)
	ib := &inbox.Handler{
		Pool: in.pool, Verifier: in.verifier, Recipients: in.courses, URLs: in.urls, Logger: in.log,
		SignatureFailureFunc: in.metrics.signatureFailed, AcceptedFunc: in.metrics.activityAccepted,
	}
	ib.Routes(r)
	in.web.Routes(r)
	return r
}

func (in *instance) ready(w http.ResponseWriter, r *http.Request) {
	if err := in.pool.Ping(r.Context()); err != nil {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

// Close stops the instance's background work.
func (in *instance) Close() { in.web.Close() }
