package web

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/federation/credential"
	"github.com/colearn/colearn/outbox"
)

// Config is what the web pages need from the rest of the program.
type Config struct {
	// Pool holds the sessions table.
	Pool *pgxpool.Pool
	// Store is the domain store for accounts, settings and courses.
	Store *courses.Store
	// RegisterFunc creates a user together with its federation keys; it
	// runs courses.Store.Register inside its own transaction, so it returns
	// the same errors.
	RegisterFunc func(ctx context.Context, nu courses.NewUser) (courses.User, error)
	// Actions run what people do on the course pages (create, enroll,
	// post, moderate) and publish the activities that follow.
	Actions *outbox.Actions
	// URLs builds the IRIs of local users and courses.
	URLs federation.URLs
	// Host is the public host[:port], shown in handles (@user@host).
	Host string
	// Secure marks session cookies Secure. Turn it off only for development
	// over plain http.
	Secure bool
	// Logger receives server errors. Nil discards them.
	Logger *slog.Logger
	// ProfileChangedFunc is told when a user edits their profile (may be
	// nil). The document cache needs no telling: the store announces the
	// change (courses.Store.Changed).
	ProfileChangedFunc func(username string)
	// Verifier checks credentials on the badge pages (badge_*.go).
	Verifier *credential.Verifier
	// Throttle limits sign-in and sign-up attempts; the zero value is the
	// default.
	Throttle Throttle
	// Cache keeps the pages anonymous visitors see until what they show
	// changes; nil renders every request.
	Cache *federation.DocCache
}

// Handler serves the HTML pages. Create it with New and stop it with Close.
type Handler struct {
	cfg         Config
	log         *slog.Logger
	sessions    *scs.SessionManager
	stop        context.CancelFunc
	cleanupDone chan struct{}
	cop         *http.CrossOriginProtection
	pages       map[string]*pageTemplate
	static      http.Handler
	throttle    *throttle
}

// New returns a Handler for cfg. It starts a goroutine that deletes expired
// sessions every five minutes; Close stops it. It panics if the embedded
// templates do not parse, which a test catches before any release.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg, log: cfg.Logger, throttle: newThrottle(cfg.Throttle)}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.sessions = newSessionManager(pgxstore.NewWithCleanupInterval(cfg.Pool, 0), cfg.Secure)
	h.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		h.serverError(w, r, fmt.Errorf("session: %w", err))
	}
	pages, err := parsePages()
	if err != nil {
		panic(err)
	}
	h.pages = pages
	staticFS, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err)
	}
	h.static = http.StripPrefix("/static/", http.FileServerFS(staticFS))
	h.cop = http.NewCrossOriginProtection()
	h.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, r, http.StatusForbidden, "Cross-origin request refused",
			"This form was sent from another site, so it was not accepted.")
	}))
	ctx, stop := context.WithCancel(context.Background())
	h.stop, h.cleanupDone = stop, make(chan struct{})
	go h.cleanSessions(ctx, sessionCleanupInterval)
	return h
}

// Close stops the session cleanup goroutine and waits for it to end. It is
// safe to call more than once.
func (h *Handler) Close() {
	h.stop()
	<-h.cleanupDone
}

// Routes mounts the pages on r: /, /signup, /signin, /signout, /@{username},
// /admin/settings, the course pages (/courses, /courses/new and the forms
// under /courses/{slug}/), the remote-course pages under /remote, and the
// assets under /static/. Every page but the assets runs behind cross-origin
// protection and with the session loaded. GET /courses/{slug} itself belongs
// to the federation handler, which calls CoursePage for browsers.
func (h *Handler) Routes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(securityHeaders)
		r.Handle("/static/*", h.static)
		r.Group(func(r chi.Router) {
			r.Use(h.cop.Handler, h.withSession)
			r.Get("/", h.home)
			r.Get("/signup", h.signupForm)
			r.Post("/signup", h.signup)
			r.Get("/signin", h.signinForm)
			r.Post("/signin", h.signin)
			r.Post("/signout", h.signout)
			r.Get("/@{username}", func(w http.ResponseWriter, r *http.Request) {
				h.profile(w, r, chi.URLParam(r, "username"))
			})
			r.Get("/settings/profile", h.requireUser(h.profileForm))
			r.Post("/settings/profile", h.requireUser(h.profileSave))
			r.Get("/admin/settings", h.requireAdmin(h.adminSettings))
			r.Post("/admin/settings", h.requireAdmin(h.adminSettingsPost))
			h.courseRoutes(r)
			h.remoteRoutes(r)
			h.remoteSyllabusRoutes(r) // remote_syllabus.go
			h.invitationRoutes(r)     // invitations.go
			h.moderationRoutes(r)
			h.badgeRoutes(r)
		})
		h.BadgeAPIRoutes(r)
	})
}
