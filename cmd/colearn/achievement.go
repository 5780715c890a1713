package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/colearn/colearn/courses"
)

const achievementSynopsis = `achievement create --course SLUG --name NAME --description TEXT --criteria TEXT [--image URL]
               [--tags a,b] [--alignment NAME=URL]... [--peer-reviews N] [--on-completion] [--by USER]
       colearn achievement list --course SLUG

create defines an Open Badges achievement of a local course and prints its
URL; list prints each achievement's URL and name. --host (or --dev) must be
the instance's public host, as for serve.`

// adminInstance parses an admin command's flags (serve's, plus extra), opens
// the database and wires an instance, whose workers deliver what the
// command publishes; close stops them and the database.
func adminInstance(ctx context.Context, name, synopsis string, args []string, stderr io.Writer, extra func(fs *flag.FlagSet)) (in *instance, rest []string, closeFn func(), err error) {
	var c config
	fs := newFlagSet(name, synopsis, stderr)
	serveFlags(fs, &c)
	extra(fs)
	if err := fs.Parse(args); err != nil {
		return nil, nil, nil, err
	}
	if err := c.finish(); err != nil {
		return nil, nil, nil, err
	}
	log, pool, closeDB, err := connect(ctx, c, stderr, false)
	if err != nil {
		return nil, nil, nil, err
	}
	in, err = newInstance(ctx, c, pool, log)
	if err != nil {
		closeDB()
		return nil, nil, nil, err
	}
	return in, fs.Args(), func() { in.Close(); closeDB() }, nil
}

// courseActor returns the local course slug and the user acting in it: by,
// or the course's owner.
func (in *instance) courseActor(ctx context.Context, slug, by string) (courses.Course, courses.User, error) {
	c, err := in.courses.CourseBySlug(ctx, slug)
	if err != nil {
		return c, courses.User{}, fmt.Errorf("course %q: %w", slug, err)
	}
	var u courses.User
	if by != "" {
		u, err = in.courses.UserByUsername(ctx, by)
	} else {
		u, err = in.courses.UserByID(ctx, c.OwnerID)
	}
	if err != nil {
		return c, u, fmt.Errorf("user %q: %w", by, err)
	}
	return c, u, nil
}

func achievementCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		fmt.Fprintln(stderr, "Usage: colearn "+achievementSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("unknown achievement command")
	}
	var slug, by, tags string
	var aligns keyFiles // repeatable NAME=URL
	var d courses.AchievementDraft
	in, _, closeFn, err := adminInstance(ctx, "achievement "+args[0], achievementSynopsis, args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&slug, "course", "", "the course's slug")
		fs.StringVar(&by, "by", "", "username of the owner or moderator acting (default: the course's owner)")
		if args[0] == "create" {
			fs.StringVar(&d.Name, "name", "", "the badge's name")
			fs.StringVar(&d.Description, "description", "", "what the badge stands for")
			fs.StringVar(&d.Criteria, "criteria", "", "what earns it (Markdown)")
			fs.StringVar(&d.ImageURL, "image", "", "URL of the badge's image")
			fs.StringVar(&tags, "tags", "", "comma-separated tags")
			fs.IntVar(&d.PeerReviews, "peer-reviews", 0, "approving peer reviews that award a request (0: facilitators decide)")
			fs.BoolVar(&d.OnCompletion, "on-completion", false, "award it when a learner's completion is approved")
			fs.Var(&aligns, "alignment", "NAME=URL of a competency or standard it aligns with; repeatable")
		}
	})
	if err != nil {
		return err
	}
	defer closeFn()
	if slug == "" {
		return errors.New("--course is required")
	}
	c, u, err := in.courseActor(ctx, slug, by)
	if err != nil {
		return err
	}
	if args[0] == "list" {
		achs, err := in.courses.Achievements(ctx, in.pool, c.ID)
		if err != nil {
			return err
		}
		for _, a := range achs {
			fmt.Fprintf(stdout, "%s\t%s\n", in.actions.AchievementIRI(c, a), a.Name)
		}
		return nil
	}
	d.Tags = strings.Split(tags, ",")
	for _, al := range aligns {
		name, url, ok := strings.Cut(al, "=")
		if !ok {
			return fmt.Errorf("--alignment %q: use NAME=URL", al)
		}
		d.Alignments = append(d.Alignments, courses.Alignment{TargetName: strings.TrimSpace(name), TargetURL: strings.TrimSpace(url)})
	}
	a, err := in.actions.CreateAchievement(ctx, u, c, d)
	if err != nil {
		return fmt.Errorf("create achievement: %w", err)
	}
	fmt.Fprintln(stdout, in.actions.AchievementIRI(c, a))
	return nil
}
