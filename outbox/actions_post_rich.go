package outbox

import (
	"context"
	"strings"
	"time"

	vocab "github.com/go-ap/activitypub"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// PostOptions are what a post may carry besides its text.
type PostOptions struct {
	// Summary is a content warning (plain text): other servers show the
	// post collapsed behind it (summary + sensitive).
	Summary string
}

// maxResolvedMentions bounds the WebFinger look-ups one post costs; later
// mentions stay plain text.
const maxResolvedMentions = 10

// composed is a local post's Markdown rendered with its mentions resolved.
type composed struct {
	html string
	tags []courses.PostTag
	// inboxes are the remote mentioned actors' inboxes, which get the
	// author's Create so that their servers notify them.
	inboxes []string
}

// compose renders a local post's Markdown: each `@name@host` (or `@name`,
// a local user) it mentions is resolved, through WebFinger for remote
// ones, into a Mention tag and a link; a mention that does not resolve
// stays plain text. Every `#word` becomes a Hashtag tag linking to this
// instance's /tags/word. It fetches, so it runs before any transaction.
func (a *Actions) compose(ctx context.Context, markdown string) composed {
	c := a.Courses.Content().Compose(markdown)
	targets := map[string]courses.MentionTarget{}
	var out composed
	for i, handle := range c.Mentions() {
		if i == maxResolvedMentions {
			break
		}
		name, host, remote := strings.Cut(handle, "@")
		if !remote || host == strings.ToLower(a.urls().Host) {
			if u, err := a.Courses.UserByUsername(ctx, name); err == nil {
				targets[handle] = courses.MentionTarget{Href: a.userIRI(u), Handle: "@" + u.Username + "@" + a.urls().Host}
			}
			continue
		}
		if a.Resolver == nil {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ra, err := a.Resolver.Handle(rctx, handle)
		cancel()
		if err != nil {
			continue // plain text, as written
		}
		targets[handle] = courses.MentionTarget{Href: ra.IRI, Handle: "@" + handle}
		if inbox := ra.DeliveryInbox(); inbox != "" {
			out.inboxes = appendNew(out.inboxes, inbox)
		}
	}
	out.html, out.tags = c.Render(targets, func(tag string) string { return a.urls().Base() + "/tags/" + tag })
	return out
}

// createOf is the author's Create of p, addressed to the course and the
// public, copied to the course's followers and the mentioned actors.
func (a *Actions) createOf(p courses.Post) *vocab.Activity {
	return federation.NewActivity(a.urls().Activity(federation.NewID()), vocab.CreateType, p.AuthorIRI,
		federation.PostObject(p), p.CourseIRI, []string{p.CourseIRI, federation.Public},
		append([]string{federation.Followers(p.CourseIRI)}, p.Mentions()...))
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
