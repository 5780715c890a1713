package web

import (
	"context"
	"time"
)

// sessionCleanupInterval is how often expired sessions are deleted.
const sessionCleanupInterval = 5 * time.Minute

// cleanSessions deletes expired sessions every interval until ctx ends.
// pgxstore has a cleanup loop of its own, but its stop channel is created
// inside the goroutine (a data race, and a leak when stopped early), so New
// disables it and runs this one.
func (h *Handler) cleanSessions(ctx context.Context, interval time.Duration) {
	defer close(h.cleanupDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := h.cfg.Pool.Exec(ctx, `DELETE FROM sessions WHERE expiry < current_timestamp`); err != nil && ctx.Err() == nil {
				h.log.Warn("delete expired sessions", "err", err)
			}
		}
	}
}
