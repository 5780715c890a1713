package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/federation/credential"
	"github.com/colearn/colearn/inbox"
	"github.com/colearn/colearn/internal/foreground"
	"github.com/colearn/colearn/internal/plaintext"
	"github.com/colearn/colearn/outbox"
	"github.com/colearn/colearn/web"
)

// instance is one running colearn: its stores, federation machinery,
// workers and HTTP handler. Several can live in one process (the federation
// tests run three), since nothing is global.
type instance struct {
	cfg  config
	pool *pgxpool.Pool
	// queuePool is River's own (queue_pool.go).
	queuePool *pgxpool.Pool
	log       *slog.Logger
	urls      federation.URLs
	courses   *courses.Store
	keys      *federation.KeyStore
	client    *federation.Client
	resolver  *federation.Resolver
	verifier  *federation.Verifier
	docs      *federation.DocCache // rendered public documents and pages, until the change that alters them
	domains   *courses.DomainPolicy
	metrics   *metrics
	outbox    *outbox.Outbox
	sender    *outbox.Sender
	actions   *outbox.Actions
	processor *inbox.Processor
	badges    *credential.Verifier // verifies credentials (badges.go)
	inbox     *inbox.Handler
	web       *web.Handler
	handler   http.Handler
	// foreground counts the requests in flight; deliveries wait their turn
	// while there are many (internal/foreground).
	foreground *foreground.Gate

	stop    context.CancelFunc
	workers sync.WaitGroup
}

// newInstance wires an instance on an open, migrated database. Its
// background workers (delivery, inbox processing) run until Close.
func newInstance(ctx context.Context, cfg config, pool *pgxpool.Pool, log *slog.Logger) (*instance, error) {
	in := &instance{
		cfg:     cfg,
		pool:    pool,
		log:     log,
		urls:    federation.URLs{Scheme: cfg.scheme(), Host: cfg.Host},
		courses: courses.NewStore(pool),
		keys:    federation.NewKeyStore(pool),
		docs:    federation.NewDocCache(0),
		metrics: newMetrics(),
		domains: courses.NewDomainPolicy(pool, 0),

		foreground: &foreground.Gate{},
	}
	in.domains.ErrorFunc = func(err error) { log.Warn("read domain blocks", "err", err) }
	in.courses.ChangingFunc = in.docs.Changing
	if err := in.keys.EnsureInstanceKeys(ctx); err != nil {
		return nil, fmt.Errorf("instance actor keys: %w", err)
	}
	in.client = federation.NewClient(federation.ClientConfig{
		AllowPrivate: cfg.Dev,
		UserAgent:    fmt.Sprintf("colearn/%s (+%s)", version, in.urls.Base()),

		DomainBlockedFunc: in.domains.HostBlocked, // nothing is fetched from blocked servers
		PaceFunc:          in.foreground.Wait,     // deliveries let requests go first
	})
	in.resolver = federation.NewResolver(pool, in.client, in.urls, in.keys)
	in.verifier = &federation.Verifier{Keys: in.resolver, Host: in.urls.Host, Window: cfg.SignatureWindow, DomainBlockedFunc: in.domains.HostBlocked}
	queuePool, err := newQueuePool(ctx, pool)
	if err != nil {
		return nil, err
	}
	in.queuePool = queuePool
	ready := false
	defer func() {
		if !ready {
			queuePool.Close()
		}
	}()
	ob, err := outbox.New(outbox.Config{
		Pool: pool, QueuePool: in.queuePool, Keys: in.keys, Client: in.client, Logger: log,
		GoneFunc: func(ctx context.Context, inbox string) error {
			_, err := in.courses.RemoveGone(ctx, pool, inbox)
			return err
		},
		DomainBlockedFunc:  in.domains.HostBlocked, // nothing is delivered to blocked servers
		RetryDelayFunc:     cfg.retryDelay,
		PollInterval:       cfg.deliveryPoll(), // config.go
		OutcomeFunc:        in.metrics.deliveryOutcome,
		CompletedRetention: cfg.DeliveryRetention,
		PublishedFunc: func(ctx context.Context, tx pgx.Tx, actorIRI string) error {
			return in.courses.Changed(ctx, tx, courses.OutboxScope(actorIRI))
		},
	})
	if err != nil {
		return nil, err
	}
	in.outbox = ob
	in.metrics.gaugeFunc("colearn_delivery_pending", "Deliveries (one per activity and inbox) queued or running.", ob.Pending)
	in.metrics.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "colearn_requests_in_flight", Help: "HTTP requests being answered now."},
			func() float64 { return float64(in.foreground.InFlight()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "colearn_deliveries_paced_total", Help: "Deliveries that waited their turn because the instance was busy answering requests."},
			func() float64 { return float64(in.foreground.Paced()) }))
	in.sender = &outbox.Sender{Outbox: ob, URLs: in.urls}
	if err := in.wireBadges(); err != nil {
		return nil, err
	}
	in.actions = &outbox.Actions{Pool: pool, Courses: in.courses, Keys: in.keys, Sender: in.sender, Resolver: in.resolver,
		Domains: in.domains, Credentials: in.badges.Canon}
	// A syllabus change needs no call here: every module revision announces
	// the course's scope in its transaction (courses.Store.Changed), which
	// reaches the document cache of every process.
	in.processor = &inbox.Processor{
		Pool: pool, Courses: in.courses, Fetcher: in.resolver, Sender: in.sender, URLs: in.urls, Logger: log,
		Badges:    in.badges,
		Retention: inboxRetention(cfg.InboxRetention), Workers: cfg.InboxWorkers,
		AppliedFunc: func(activityType string, took time.Duration) {
			in.metrics.activityApplied(activityType, took)
			in.foreground.Working() // a backlog being applied goes before deliveries
		},
	}
	in.metrics.inboxPending(in.processor.Pending)
	in.web = web.New(web.Config{
		Pool:         pool,
		Store:        in.courses,
		RegisterFunc: in.register,
		Actions:      in.actions,
		URLs:         in.urls,
		Host:         cfg.Host,
		Secure:       !cfg.Dev,
		Logger:       log,
		Verifier:     in.badges,
		Throttle:     web.Throttle{ClientAddrHeader: cfg.ClientAddrHeader},
		Cache:        in.docs,
	})
	in.handler = in.routes()

	runCtx, cancel := context.WithCancel(context.Background())
	in.stop = cancel
	if err := ob.Start(runCtx); err != nil {
		cancel()
		return nil, fmt.Errorf("start delivery workers: %w", err)
	}
	in.workers.Add(3)
	go func() {
		defer in.workers.Done()
		refreshCohosted(runCtx, in.actions, cfg.CohostRefresh, log) // cohost.go
	}()
	go func() {
		defer in.workers.Done()
		in.processor.Run(runCtx)
	}()
	go func() {
		defer in.workers.Done()
		in.docs.Listen(runCtx, pool, log)
	}()
	ready = true
	return in, nil
}

// register creates an account and its actor keys in one transaction, under
// the instance's registration rules.
func (in *instance) register(ctx context.Context, nu courses.NewUser) (courses.User, error) {
	return createAccount(ctx, in.pool, in.keys, nu, in.courses.Register)
}

func (in *instance) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, in.metrics.instrument, plaintext.Handler, in.foreground.Handler)
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	r.Get("/readyz", in.ready)
	fed := &federation.Handler{
		URLs: in.urls, Courses: in.courses, Keys: in.keys, Verifier: in.verifier,
		AuthorizedFetch: in.cfg.AuthorizedFetch, SignatureFailureFunc: in.metrics.signatureFailed,
		Cache: in.docs, Version: version, Logger: in.log,
	}
	fed.CoursePageFunc = in.web.CoursePage
	fed.PostPageFunc = in.web.PostPage
	fed.TagPageFunc = in.web.TagPage
	fed.Routes(r)
	fed.ModuleRoutes(r, in.web.SyllabusPage, in.web.ModulePage)
	ib := &inbox.Handler{
		Pool: in.pool, Verifier: in.verifier, Recipients: in.courses, URLs: in.urls, Logger: in.log,
		SignatureFailureFunc: in.metrics.signatureFailed, AcceptedFunc: in.metrics.activityAccepted,
		WakeFunc:     in.processor.WakeFor,
		BacklogLimit: in.cfg.InboxBacklog, Ready: in.processor.Ready, BusyFunc: in.metrics.inboxBusy,
	}
	ib.Routes(r)
	in.inbox = ib
	r.Get("/actor/outbox", func(w http.ResponseWriter, r *http.Request) {
		in.cachedOutbox(w, r, in.urls.InstanceActor(), func(w http.ResponseWriter, r *http.Request, d federation.Doc) {
			federation.WriteDoc(w, r, d, federation.CachePublic, "Accept") // public, like the instance actor
		})
	})
	r.Group(func(r chi.Router) {
		r.Use(fed.SignedGets) // with --authorized-fetch, outboxes and activities need a signature too
		r.Get("/users/{name}/outbox", func(w http.ResponseWriter, r *http.Request) {
			in.cachedOutbox(w, r, in.urls.User(chi.URLParam(r, "name")), fed.WriteSigned)
		})
		r.Get("/courses/{slug}/outbox", func(w http.ResponseWriter, r *http.Request) {
			in.cachedOutbox(w, r, in.urls.Course(chi.URLParam(r, "slug")), fed.WriteSigned)
		})
		r.Get("/activities/{id}", func(w http.ResponseWriter, r *http.Request) {
			in.outbox.ServeActivity(w, r, in.urls.Activity(chi.URLParam(r, "id")))
		})
	})
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

// Close stops the instance's workers, letting running deliveries finish.
func (in *instance) Close() {
	in.stop()
	in.workers.Wait()
	in.inbox.Close()
	if err := in.outbox.Stop(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
		in.log.Warn("stopping delivery workers", "err", err)
	}
	in.web.Close()
	in.queuePool.Close()
}

// inboxRetention maps the --inbox-retention flag onto the processor's
// setting: zero or less keeps applied activities for good.
func inboxRetention(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
