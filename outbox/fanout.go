package outbox

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/colearn/colearn/courses"
)

// fanoutWorker turns one published activity into one delivery job per
// distinct inbox, inserted in one batch (COPY, River's InsertManyFastTx) in
// the same transaction that marks the fan-out done, so a crash can neither
// lose nor double the deliveries.
type fanoutWorker struct {
	river.WorkerDefaults[fanoutArgs]
	pool *pgxpool.Pool
}

func (w *fanoutWorker) Work(ctx context.Context, job *river.Job[fanoutArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		inboxes := job.Args.Inboxes
		if job.Args.FollowersOf != 0 {
			members, err := courses.MemberInboxes(ctx, tx, job.Args.FollowersOf)
			if err != nil {
				return fmt.Errorf("fan out %s: %w", job.Args.ActivityID, err)
			}
			inboxes = append(members, inboxes...)
		}
		inboxes = interleaveHosts(inboxes)
		params := make([]river.InsertManyParams, len(inboxes))
		for i, inbox := range inboxes {
			params[i] = river.InsertManyParams{Args: deliveryArgs{ActivityID: job.Args.ActivityID, Inbox: inbox}}
		}
		if len(params) > 0 {
			if _, err := client.InsertManyFastTx(ctx, tx, params); err != nil {
				return fmt.Errorf("fan out %s: enqueue %d deliveries: %w", job.Args.ActivityID, len(params), err)
			}
		}
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
}

// interleaveHosts drops empty and repeated inboxes and orders the rest
// round-robin across hosts. River works jobs in insertion order, so without
// this a post to ten thousand personal inboxes (which arrive sorted) would
// send every worker to the same server at once: a burst no small instance
// enjoys, and more connections than the client keeps open per host.
func interleaveHosts(inboxes []string) []string {
	seen := make(map[string]bool, len(inboxes))
	byHost := make(map[string][]string)
	var hosts []string
	for _, inbox := range inboxes {
		if inbox == "" || seen[inbox] {
			continue
		}
		seen[inbox] = true
		host := inbox
		if u, err := url.Parse(inbox); err == nil {
			host = strings.ToLower(u.Host)
		}
		if _, ok := byHost[host]; !ok {
			hosts = append(hosts, host)
		}
		byHost[host] = append(byHost[host], inbox)
	}
	out := make([]string, 0, len(seen))
	for round := 0; len(hosts) > 0; round++ {
		active := hosts[:0]
		for _, h := range hosts {
			out = append(out, byHost[h][round])
			if round+1 < len(byHost[h]) {
				active = append(active, h)
			}
		}
		hosts = active
	}
	return out
}
