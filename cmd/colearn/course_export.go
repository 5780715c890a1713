package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/colearn/colearn/courses"
)

const courseArchiveUsage = `Usage:
  colearn course export SLUG > COURSE.tar.gz
  colearn course import --owner USERNAME [--slug SLUG] COURSE.tar.gz

export writes the course (metadata, licence, authors, origin, and every
module with all its revisions) as one archive to stdout. import creates a
new course owned by USERNAME from such an archive, crediting its origin; a
malformed or hostile archive, or one whose licence forbids derivatives, is
refused with the reason and changes nothing.`

// courseArchiveCommand runs course export and course import.
func courseArchiveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := newFlagSet("course "+args[0], "course "+args[0]+" [flags]\n\n"+courseArchiveUsage, stderr)
	instanceFlags(fs, &c)
	owner := fs.String("owner", "", "username of the imported course's owner")
	slug := fs.String("slug", "", "handle of the imported course (default: the archive's)")
	// Flags may come before or after the argument.
	var positional []string
	for rest := args[1:]; ; rest = fs.Args()[1:] {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
	}
	if len(positional) != 1 {
		fs.Usage()
		return fmt.Errorf("course %s takes one argument", args[0])
	}
	arg := positional[0]
	if args[0] == "import" && *owner == "" {
		fs.Usage()
		return errors.New("--owner is required")
	}
	var archive *courses.Archive
	if args[0] == "import" {
		// Read and check the file before touching the database.
		f, err := os.Open(arg)
		if err != nil {
			return fmt.Errorf("course import: %w", err)
		}
		archive, err = courses.ReadArchive(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("course import %s: %w", arg, err)
		}
	}
	env, err := openCLIEnv(ctx, c, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	if args[0] == "export" {
		course, err := env.store.CourseBySlug(ctx, arg)
		if err != nil {
			return fmt.Errorf("course export: %w", err)
		}
		a, err := env.store.BuildArchive(ctx, env.pool, course, env.urls.Course(course.Slug))
		if err != nil {
			return err
		}
		return courses.WriteArchive(stdout, a)
	}
	u, err := env.store.UserByUsername(ctx, *owner)
	if err != nil {
		return fmt.Errorf("--owner %s: %w", *owner, err)
	}
	course, err := env.actions.ImportCourse(ctx, u, archive, *slug)
	if err != nil {
		return fmt.Errorf("course import %s: %w", arg, err)
	}
	fmt.Fprintf(stdout, "imported course @%s@%s from %s (%d modules): %s\n", course.Slug, c.Host, archive.Manifest.Origin.IRI,
		len(archive.Modules), env.urls.Course(course.Slug))
	return nil
}
