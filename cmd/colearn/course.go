package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/outbox"
)

const courseSynopsis = `course create --owner USERNAME --slug SLUG --title TITLE [flags]

Creates a course owned by a local user. The course is a fediverse group with
the handle @SLUG@HOST, so --host (COLEARN_HOST, or --dev) must be the
instance's public host, as for serve.`

func courseCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "export" || args[0] == "import") {
		return courseArchiveCommand(ctx, args, stdout, stderr)
	}
	if len(args) > 0 && (args[0] == "cohost" || args[0] == "uncohost" || args[0] == "cohosted") {
		return cohostCommand(ctx, args, stdout, stderr) // cohost.go
	}
	if len(args) > 0 && (args[0] == "invite" || args[0] == "grants" || args[0] == "revoke") {
		return grantsCommand(ctx, args, stdout, stderr) // coauthor.go
	}
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "Usage: colearn "+courseSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("unknown course command")
	}
	var c config
	fs := newFlagSet("course create", courseSynopsis, stderr)
	databaseFlags(fs, &c)
	fs.StringVar(&c.Host, "host", envOr("COLEARN_HOST", ""), "public host[:port] of the instance (COLEARN_HOST)")
	fs.BoolVar(&c.Dev, "dev", envBool("COLEARN_DEV"), "development mode, as for serve (COLEARN_DEV=1)")
	fs.StringVar(&c.Listen, "listen", envOr("COLEARN_LISTEN", "127.0.0.1:8080"), "listen address, for the default host in development (COLEARN_LISTEN)")
	owner := fs.String("owner", "", "username of the course's owner")
	var d courses.CourseDraft
	fs.StringVar(&d.Slug, "slug", "", "the course's handle (lower-case letters, digits, _ and -)")
	fs.StringVar(&d.Title, "title", "", "the course's title")
	fs.StringVar(&d.Summary, "summary", "", "what the course is about, in Markdown")
	fs.StringVar(&d.Language, "language", "en", "language tag of the course")
	fs.StringVar(&d.Licence, "licence", "CC-BY-SA-4.0", "licence: "+strings.Join(courses.Licences, ", "))
	tags := fs.String("tags", "", "comma-separated tags")
	fs.BoolVar(&d.ManuallyApproves, "approve-members", false, "hold enrollments until a moderator approves them")
	fs.BoolVar(&d.OpenDiscussion, "open-discussion", false, "let anyone post, not only members")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *owner == "" || d.Slug == "" || d.Title == "" {
		fs.Usage()
		return errors.New("--owner, --slug and --title are required")
	}
	if err := c.finish(); err != nil {
		return err
	}
	for _, t := range strings.Split(*tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			d.Tags = append(d.Tags, t)
		}
	}
	_, pool, closeDB, err := connect(ctx, c, stderr, false)
	if err != nil {
		return err
	}
	defer closeDB()
	store := courses.NewStore(pool)
	u, err := store.UserByUsername(ctx, *owner)
	if err != nil {
		return fmt.Errorf("owner %q: %w", *owner, err)
	}
	urls := federation.URLs{Scheme: c.scheme(), Host: c.Host}
	// Creating a course sends nothing, so the actions need no outbox.
	actions := &outbox.Actions{Pool: pool, Courses: store, Keys: federation.NewKeyStore(pool), Sender: &outbox.Sender{URLs: urls}}
	course, err := actions.CreateCourse(ctx, u, d)
	if err != nil {
		return fmt.Errorf("create course: %w", err)
	}
	fmt.Fprintf(stdout, "created course @%s@%s: %s\n", course.Slug, c.Host, urls.Course(course.Slug))
	return nil
}
