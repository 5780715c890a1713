package web

import (
	"context"
	"html/template"
	"net/http"

	"github.com/colearn/colearn/courses"
)

type homeData struct {
	Mode     string
	Identity courses.Identity
	Rules    template.HTML // the rules' Markdown, rendered and sanitised
}

// home greets the signed-in user, or offers sign-in and (unless closed)
// sign-up; it shows the instance's description, contact and rules.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	h.publicPage(w, r, "home", "", func(ctx context.Context) (page, []courses.Scope, error) {
		mode, err := h.cfg.Store.Registrations(ctx)
		if err != nil {
			return page{}, nil, err
		}
		id, err := h.identity(ctx)
		if err != nil {
			return page{}, nil, err
		}
		data := homeData{Mode: string(mode), Identity: id, Rules: template.HTML(h.cfg.Store.Content().Markdown(id.Rules))}
		return page{Name: "home", Title: "Home", Data: data, Meta: pageMeta{
			OGType: "website", URL: h.cfg.URLs.Base() + "/", Description: id.Description, Alternate: h.cfg.URLs.InstanceActor(),
		}}, []courses.Scope{courses.SiteScope}, nil
	})
}
