package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/internal/httpload"
)

// errNoBacklogSource means neither the metrics listener exports
// colearn_inbox_pending nor a database URL was given.
var errNoBacklogSource = errors.New("no way to read the inbox backlog: give -metrics (a colearn exporting colearn_inbox_pending) or -database-url")

// backlog reads how many accepted activities are not applied yet: from the
// instance's metrics listener when it exports colearn_inbox_pending, else
// from its database.
type backlog struct {
	metricsURL  string
	databaseURL string
	conn        *pgx.Conn
}

func (b *backlog) pending(ctx context.Context) (int64, string, error) {
	if b.metricsURL != "" {
		n, err := scrapeGauge(ctx, b.metricsURL, "colearn_inbox_pending")
		if err == nil {
			return n, "metrics", nil
		}
		if b.databaseURL == "" {
			return 0, "", err
		}
	}
	if b.databaseURL == "" {
		return 0, "", errNoBacklogSource
	}
	if b.conn == nil {
		c, err := pgx.Connect(ctx, b.databaseURL)
		if err != nil {
			return 0, "", fmt.Errorf("connect to the instance's database: %w", err)
		}
		b.conn = c
	}
	// The count the instance keeps (migration 00019) costs a read of a few
	// rows; an older schema is counted, at the cost of a scan of its
	// backlog.
	var n int64
	err := b.conn.QueryRow(ctx, `SELECT coalesce(sum(n), 0)::bigint FROM inbox_pending_slots`).Scan(&n)
	if err != nil {
		err = b.conn.QueryRow(ctx, `SELECT count(*) FROM inbox_activities WHERE processed_at IS NULL`).Scan(&n)
	}
	return n, "database", err
}

func (b *backlog) close() {
	if b.conn != nil {
		b.conn.Close(context.Background())
	}
}

// Polling the backlog: every poll is a scrape of all the instance's gauges
// (or a query), work the instance does beside the load. So the driver
// polls at most every drainPollMin, and while much is pending, after half
// the time the backlog would take to drain at the rate seen since the last
// poll (at most drainPollMax): the end is still seen within drainPollMin
// unless applying suddenly runs twice as fast.
const (
	drainPollMin = 50 * time.Millisecond
	drainPollMax = time.Second
)

// drained waits until nothing is pending and returns when that was seen,
// for at most limit.
func (b *backlog) drained(ctx context.Context, limit time.Duration) (time.Time, string, error) {
	deadline := time.Now().Add(limit)
	var lastN int64 = -1
	var lastAt time.Time
	for {
		n, source, err := b.pending(ctx)
		if err != nil {
			return time.Time{}, "", err
		}
		now := time.Now()
		if n == 0 {
			return now, source, nil
		}
		if now.After(deadline) {
			return time.Time{}, source, fmt.Errorf("%d activities still pending after %s", n, limit)
		}
		wait := drainPollMin
		if lastN > n {
			rate := float64(lastN-n) / now.Sub(lastAt).Seconds()
			wait = min(max(time.Duration(float64(n)/rate/2*float64(time.Second)), drainPollMin), drainPollMax)
		}
		lastN, lastAt = n, now
		time.Sleep(wait)
	}
}

// scrapeGauge reads series name (without labels) from a Prometheus text
// page at rawURL.
func scrapeGauge(ctx context.Context, rawURL, name string) (int64, error) {
	if err := httpload.CheckLoopback(rawURL); err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f), err
		}
	}
	return 0, fmt.Errorf("%s does not export %s", rawURL, name)
}
