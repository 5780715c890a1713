package web

import (
	"context"
	"strconv"

	"github.com/colearn/colearn/courses"
)

// backpackView is a kept credential on a profile.
type backpackView struct {
	courses.BackpackItem
	URL string // the page verifying it
}

// backpack lists u's credentials for the profile page.
func (h *Handler) backpack(ctx context.Context, u courses.User) ([]backpackView, error) {
	items, err := h.cfg.Store.Backpack(ctx, h.cfg.Pool, u.ID)
	if err != nil {
		return nil, err
	}
	out := make([]backpackView, 0, len(items))
	for _, it := range items {
		out = append(out, backpackView{BackpackItem: it, URL: "/@" + u.Username + "/badges/" + strconv.FormatInt(it.ID, 10)})
	}
	return out, nil
}
