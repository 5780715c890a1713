package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/outbox"
)

const moduleUsage = `Usage:
  colearn module list --course SLUG|@slug@host
  colearn module show --course SLUG --module ID [--revision N]
  colearn module add  --as USERNAME --course SLUG|@slug@host --title TITLE --file BODY.md [--summary TEXT] [--minutes N]
  colearn module edit --as USERNAME --course SLUG|@slug@host --module ID --file BODY.md [--base REVISION] [--title TITLE] [--summary TEXT] [--minutes N]

Changes are sent to the course's followers by the running instance's
workers, as the web page's are. --host (COLEARN_HOST, or --dev) must be the
instance's public host, as for serve. An edit based on an older revision
(--base) than the current one is refused with the current revision's number,
and the refused text is kept on the module page for merging.`

// cliEnv is what the author commands need: the database, the store and the
// actions, with an outbox that stores deliveries for the running instance's
// workers (it is never started here).
type cliEnv struct {
	cfg     config
	pool    *pgxpool.Pool
	store   *courses.Store
	urls    federation.URLs
	actions *outbox.Actions
	// resolver fetches remote courses and their modules, signed by the
	// instance actor.
	resolver *federation.Resolver
	close    func()
}

// instanceFlags registers the flags of commands that act on an instance's
// database as it (database, host, dev, listen).
func instanceFlags(fs *flag.FlagSet, c *config) {
	databaseFlags(fs, c)
	fs.StringVar(&c.Host, "host", envOr("COLEARN_HOST", ""), "public host[:port] of the instance (COLEARN_HOST)")
	fs.BoolVar(&c.Dev, "dev", envBool("COLEARN_DEV"), "development mode, as for serve (COLEARN_DEV=1)")
	fs.StringVar(&c.Listen, "listen", envOr("COLEARN_LISTEN", "127.0.0.1:8080"), "listen address, for the default host in development (COLEARN_LISTEN)")
}

func openCLIEnv(ctx context.Context, c config, stderr io.Writer) (*cliEnv, error) {
	if err := c.finish(); err != nil {
		return nil, err
	}
	log, pool, closeDB, err := connect(ctx, c, stderr, false)
	if err != nil {
		return nil, err
	}
	urls := federation.URLs{Scheme: c.scheme(), Host: c.Host}
	keys := federation.NewKeyStore(pool)
	client := federation.NewClient(federation.ClientConfig{AllowPrivate: c.Dev, UserAgent: "colearn/" + version})
	ob, err := outbox.New(outbox.Config{Pool: pool, Keys: keys, Client: client, Logger: log})
	if err != nil {
		closeDB()
		return nil, err
	}
	store := courses.NewStore(pool)
	resolver := federation.NewResolver(pool, client, urls, keys)
	return &cliEnv{cfg: c, pool: pool, store: store, urls: urls, close: closeDB, resolver: resolver, actions: &outbox.Actions{
		Pool: pool, Courses: store, Keys: keys, Sender: &outbox.Sender{Outbox: ob, URLs: urls}, Resolver: resolver,
	}}, nil
}

// moduleTarget is a course whose syllabus an author works on: a local
// course, or a remote one by its handle (@slug@host, remoteTarget), whose
// changes go through the author's own instance as the web page's do.
type moduleTarget interface {
	list(ctx context.Context) ([]courses.Module, error)
	module(ctx context.Context, id int64) (courses.Module, error)
	add(ctx context.Context, u courses.User, d courses.ModuleDraft) (courses.Module, error)
	edit(ctx context.Context, u courses.User, id int64, base int, d courses.ModuleDraft) (courses.Module, error)
	url(m courses.Module) string
}

func (e *cliEnv) target(ctx context.Context, course string) (moduleTarget, error) {
	if strings.Contains(course, "@") {
		return e.remoteTarget(ctx, course) // coauthor.go
	}
	if strings.Contains(course, "://") {
		return nil, fmt.Errorf("--course %s: give a remote course by its handle, @slug@host", course)
	}
	c, err := e.store.CourseBySlug(ctx, course)
	if err != nil {
		return nil, fmt.Errorf("--course %s: %w", course, err)
	}
	return localTarget{env: e, course: c}, nil
}

type localTarget struct {
	env    *cliEnv
	course courses.Course
}

func (t localTarget) list(ctx context.Context) ([]courses.Module, error) {
	return t.env.store.AllModules(ctx, t.env.pool, t.course.ID)
}

func (t localTarget) module(ctx context.Context, id int64) (courses.Module, error) {
	return t.env.store.ModuleOf(ctx, t.env.pool, t.course.ID, id)
}

func (t localTarget) add(ctx context.Context, u courses.User, d courses.ModuleDraft) (courses.Module, error) {
	return t.env.actions.AddModule(ctx, u, t.course, d)
}

func (t localTarget) edit(ctx context.Context, u courses.User, id int64, base int, d courses.ModuleDraft) (courses.Module, error) {
	return t.env.actions.EditModule(ctx, u, t.course, id, base, d)
}

func (t localTarget) url(m courses.Module) string { return t.env.urls.Module(t.course.Slug, m.ID) }

func moduleCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, moduleUsage)
		if len(args) > 0 {
			return nil
		}
		return errors.New("no module command given")
	}
	var c config
	fs := newFlagSet("module "+args[0], "module "+args[0]+" [flags]\n\n"+moduleUsage, stderr)
	instanceFlags(fs, &c)
	course := fs.String("course", "", "the course's slug")
	as := fs.String("as", "", "username of the author")
	id := fs.Int64("module", 0, "the module's id (colearn module list shows it)")
	title := fs.String("title", "", "the module's title")
	file := fs.String("file", "", "Markdown file with the module's body")
	summary := fs.String("summary", "", "one-paragraph summary, shown in timelines")
	minutes := fs.Int("minutes", -1, "estimated time in minutes")
	base := fs.Int("base", 0, "the revision the edit is based on (default: the current one)")
	revision := fs.Int("revision", 0, "the revision to show (default: the current one)")
	switch args[0] {
	case "list", "show", "add", "edit":
	default:
		fmt.Fprintln(stderr, moduleUsage)
		return fmt.Errorf("unknown module command %q", args[0])
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *course == "" {
		fs.Usage()
		return errors.New("--course is required")
	}
	needs := map[string][]string{"show": {"module"}, "add": {"as", "title", "file"}, "edit": {"as", "module", "file"}}[args[0]]
	for _, n := range needs {
		if f := fs.Lookup(n); f.Value.String() == f.DefValue {
			fs.Usage()
			return fmt.Errorf("--%s is required for module %s", n, args[0])
		}
	}
	env, err := openCLIEnv(ctx, c, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	t, err := env.target(ctx, *course)
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		return listModules(ctx, t, stdout)
	case "show":
		return showModule(ctx, env, t, *id, *revision, stdout)
	}
	u, err := env.store.UserByUsername(ctx, *as)
	if err != nil {
		return fmt.Errorf("--as %s: %w", *as, err)
	}
	body, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("--file: %w", err)
	}
	if args[0] == "add" {
		d := courses.ModuleDraft{Title: *title, Summary: *summary, Body: string(body), EstimatedMinutes: max(*minutes, 0)}
		m, err := t.add(ctx, u, d)
		if err != nil {
			return fmt.Errorf("add module: %w", err)
		}
		if m.ID == 0 {
			fmt.Fprintf(stdout, "sent the new module to %s; `colearn invitation edits --as %s` shows the course's answer\n", t.url(m), *as)
			return nil
		}
		fmt.Fprintf(stdout, "added module %d (number %d, revision %d): %s\n", m.ID, m.Number, m.Revision, t.url(m))
		return nil
	}
	cur, err := t.module(ctx, *id)
	if err != nil {
		return fmt.Errorf("--module %d: %w", *id, err)
	}
	d := cur.ModuleDraft
	d.Body = string(body)
	if *title != "" {
		d.Title = *title
	}
	if *summary != "" {
		d.Summary = *summary
	}
	if *minutes >= 0 {
		d.EstimatedMinutes = *minutes
	}
	m, err := t.edit(ctx, u, *id, *base, d)
	var ce *courses.ConflictError
	if errors.As(err, &ce) {
		return fmt.Errorf("edit refused: %w; your text is kept on %s, and `colearn module show --course %s --module %d` prints revision %d",
			err, t.url(cur), *course, *id, ce.Current)
	}
	if err != nil {
		return fmt.Errorf("edit module %d: %w", *id, err)
	}
	if m.Revision == 0 {
		fmt.Fprintf(stdout, "sent the edit of %s; `colearn invitation edits --as %s` shows the course's answer\n", t.url(m), *as)
		return nil
	}
	fmt.Fprintf(stdout, "module %d is at revision %d: %s\n", m.ID, m.Revision, t.url(m))
	return nil
}

func listModules(ctx context.Context, t moduleTarget, stdout io.Writer) error {
	mods, err := t.list(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNO\tREVISION\tMINUTES\tTITLE")
	for _, m := range mods {
		no := fmt.Sprint(m.Number)
		if m.Retired {
			no = "retired"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\n", m.ID, no, m.Revision, m.EstimatedMinutes, m.Title)
	}
	return tw.Flush()
}

func showModule(ctx context.Context, env *cliEnv, t moduleTarget, id int64, revision int, stdout io.Writer) error {
	m, err := t.module(ctx, id)
	if err != nil {
		return fmt.Errorf("--module %d: %w", id, err)
	}
	d, n := m.ModuleDraft, m.Revision
	if revision != 0 {
		r, err := env.store.Revision(ctx, env.pool, m.ID, revision)
		if err != nil {
			return fmt.Errorf("--revision %d: %w", revision, err)
		}
		d, n = r.ModuleDraft, r.Number
	}
	fmt.Fprintf(stdout, "# %s\n<!-- module %d, revision %d of %d -->\n\n%s", d.Title, m.ID, n, m.Revision, d.Body)
	if !strings.HasSuffix(d.Body, "\n") {
		fmt.Fprintln(stdout)
	}
	return nil
}
