package inbox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// maxFlagObjects bounds how many objects of one Flag are looked at.
const maxFlagObjects = 32

// flag files a Flag from another server (Mastodon sends one from its
// instance actor, naming the account and the posts reported) into the
// moderation queue: one report per post of this instance it names, and one
// per account of this instance it names without any of its posts. Objects
// on other servers are not ours to judge and are ignored; a Flag naming
// nothing of ours is ignored. A redelivered Flag files nothing new.
func (p *Processor) flag(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	var iris []string
	switch obj := in.Activity.Object.(type) {
	case nil:
		return fmt.Errorf("%w: Flag without object", ErrMalformed)
	case vocab.ItemCollection:
		for _, it := range obj {
			iris = append(iris, it.GetLink().String())
		}
	default:
		iris = append(iris, obj.GetLink().String())
	}
	if len(iris) > maxFlagObjects {
		iris = iris[:maxFlagObjects]
	}
	comment := in.Activity.Content.First().String()
	report := func(target, post, course string) error {
		_, _, err := p.Courses.FileReport(ctx, tx, courses.Report{ReporterIRI: in.Actor, TargetIRI: target, PostIRI: post,
			CourseIRI: course, Comment: comment, Source: courses.SourceRemote, ActivityID: in.ID})
		return err
	}
	var accounts []string
	withPosts := map[string]bool{}
	for _, iri := range iris {
		if !p.URLs.IsLocal(iri) {
			continue
		}
		post, err := p.Courses.PostByIRI(ctx, tx, iri)
		switch {
		case err == nil && post.Local:
			if err := report(post.AuthorIRI, post.IRI, post.CourseIRI); err != nil {
				return err
			}
			withPosts[post.AuthorIRI] = true
		case err == nil || errors.Is(err, courses.ErrNotFound):
			if ok, err := p.localAccount(ctx, iri); err != nil {
				return err
			} else if ok {
				accounts = append(accounts, iri)
			}
		default:
			return err
		}
	}
	filed := len(withPosts)
	for _, acct := range accounts {
		if withPosts[acct] {
			continue
		}
		if err := report(acct, "", ""); err != nil {
			return err
		}
		filed++
	}
	if filed == 0 {
		return fmt.Errorf("%w: Flag of nothing on this instance", errIgnored)
	}
	return nil
}

// localAccount reports whether iri is a local user or course.
func (p *Processor) localAccount(ctx context.Context, iri string) (bool, error) {
	if _, ok, err := p.localCourse(ctx, iri); err != nil || ok {
		return ok, err
	}
	name, ok := strings.CutPrefix(iri, p.URLs.User(""))
	if !ok || name == "" || strings.ContainsAny(name, "/?#") {
		return false, nil
	}
	_, err := p.Courses.UserByUsername(ctx, name)
	if errors.Is(err, courses.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
