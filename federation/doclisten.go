package federation

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
)

// Listen receives the change notices of courses.Store.Changed on a
// connection of its own (opened with pool's settings, so it takes nothing
// from the pool) and invalidates what they name, until ctx ends. Whenever
// the connection is (re)established the whole cache is dropped, since
// notices sent while it was down are lost; while it is down, nothing is
// served from memory. It reconnects with a growing pause (up to 30 s) and
// logs each failure to log (which may be nil).
//
//	go docs.Listen(ctx, pool, log)
func (c *DocCache) Listen(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) {
	if c == nil {
		return
	}
	pause := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.listenOnce(ctx, pool)
		c.setListening(false)
		if ctx.Err() != nil {
			return
		}
		if log != nil {
			log.Warn("document cache: change notices interrupted; serving from the database", "err", err)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pause = min(2*pause, 30*time.Second)
	}
}

func (c *DocCache) listenOnce(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{courses.ChangeChannel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	c.setListening(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notices: %w", err)
		}
		token, scopes := courses.ParseChange(n.Payload)
		c.Invalidate(token, scopes...)
	}
}
