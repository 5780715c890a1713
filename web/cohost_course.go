package web

import (
	"context"
	"net/url"

	"github.com/colearn/colearn/courses"
)

// cohostView is an instance co-hosting a local course, as its page lists
// it: the instance's host and its home page.
type cohostView struct{ Host, URL string }

// courseCohosts lists the instances whose Follow of course c was accepted
// as co-hosting (inbox/cohost.go).
func (h *Handler) courseCohosts(ctx context.Context, c courses.Course) ([]cohostView, error) {
	list, err := h.cfg.Store.CohostsOf(ctx, h.cfg.Pool, c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]cohostView, 0, len(list))
	for _, ch := range list {
		u, err := url.Parse(ch.InstanceIRI)
		if err != nil || u.Host == "" {
			continue
		}
		out = append(out, cohostView{Host: u.Host, URL: u.Scheme + "://" + u.Host + "/"})
	}
	return out, nil
}
