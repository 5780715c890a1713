package outbox

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// fanoutWorker turns one published activity into delivery jobs, each
// carrying up to MaxInboxesPerJob inboxes of one host, inserted in one batch
// (insertDeliveries) in the same transaction that marks the fan-out done,
// so a crash can neither lose nor double the deliveries.
//
// It sits on the path from a post's commit to its first delivery, so it
// makes few round trips: the members, the co-hosts and, for a fan-out of a
// few activities, their bodies are asked for in one pipelined batch
// (targets); the bodies go into the delivery workers' cache, so that the
// jobs it enqueues start signing without a query of their own.
type fanoutWorker struct {
	river.WorkerDefaults[fanoutArgs]
	pool       *pgxpool.Pool
	activities *activities
}

func (w *fanoutWorker) Work(ctx context.Context, job *river.Job[fanoutArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	what := describeActivities(job.Args.ActivityID, job.Args.More)
	return pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		inboxes, err := w.targets(ctx, tx, job.Args)
		if err != nil {
			return fmt.Errorf("fan out %s: %w", what, err)
		}
		params := deliveryJobs(job.Args.activities(), batchByHost(inboxes, MaxInboxesPerJob))
		if err := insertDeliveries(ctx, client, tx, params); err != nil {
			return fmt.Errorf("fan out %s: enqueue %d delivery jobs: %w", what, len(params), err)
		}
		_, err = river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
}

// targets returns every inbox args names (not yet deduplicated), reading
// a course's members and co-hosts and a few activities' bodies (for the
// cache) in one round trip.
func (w *fanoutWorker) targets(ctx context.Context, tx pgx.Tx, args fanoutArgs) ([]string, error) {
	var b pgx.Batch
	var members []memberRow
	var cohosts []string
	if args.FollowersOf != 0 {
		queueMemberTargets(&b, args.FollowersOf, args.FollowersVia, &members)
		queueCohostTargets(&b, args.FollowersOf, args.FollowersVia, &cohosts) // cohost_targets.go
	}
	// Only a fan-out of a few activities reads their bodies for the
	// cache. A batch of applied activities makes one fan-out of all of
	// them, and a large one comes from a backlog being applied, when
	// deliveries are paced (internal/foreground): by the time its jobs
	// run, the few hundred bodies the cache keeps are long replaced, and
	// the jobs read them again (getMany, one query per job). Over 100,000
	// Creates in batches of about 30, this read cost PostgreSQL more than
	// any query but the inserts, and fed nothing.
	if ids := args.activities(); len(ids) <= preReadActivities && w.activities != nil {
		var uncached []string
		for _, id := range ids {
			if !w.activities.cached(id) {
				uncached = append(uncached, id)
			}
		}
		if len(uncached) > 0 {
			w.activities.queueReads(&b, uncached, nil)
		}
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return nil, err
		}
	}
	inboxes := append(electTargets(members), args.Inboxes...)
	inboxes = append(inboxes, cohosts...)
	if args.UserFollowersOf != 0 {
		followers, err := userFollowerTargets(ctx, tx, args.UserFollowersOf) // user_followers.go
		if err != nil {
			return nil, err
		}
		inboxes = append(inboxes, followers...)
	}
	return inboxes, nil
}

// preReadActivities is the most activities a fan-out reads the bodies of
// for the delivery workers' cache (256 bodies).
const preReadActivities = 16

// maxDeliveriesPerJob bounds a delivery job's activities × inboxes, so
// that a host with many personal inboxes still gets its deliveries from
// several workers at once; a shared inbox takes up to this many
// activities in one job.
const maxDeliveriesPerJob = 100

// deliveryJobs returns the delivery jobs that send every activity of ids to
// every inbox of batches (each of one host). Every job carries all the
// activities, in order, so that each inbox receives them in that order
// from one job; a batch's inboxes are split so that a job holds at most
// maxDeliveriesPerJob deliveries (at least one inbox).
func deliveryJobs(ids []string, batches [][]string) []river.InsertManyParams {
	per := max(maxDeliveriesPerJob/max(len(ids), 1), 1)
	var params []river.InsertManyParams
	for _, batch := range batches {
		for inboxes := range slices.Chunk(batch, per) {
			a := deliveryArgs{ActivityID: ids[0], More: slices.Clone(ids[1:]), Inboxes: inboxes}
			params = append(params, river.InsertManyParams{Args: a.insertable()})
		}
	}
	return params
}

// copyFromJobs is the number of delivery jobs from which a fan-out inserts
// them with COPY. Below it, one INSERT of arrays is fewer round trips
// (COPY costs two, starting the copy and ending it, plus a description of
// the table the first time on each connection), and a post's hundred jobs
// for a hundred servers are on the critical path of its delivery; above
// it, COPY's lower cost per row wins.
const copyFromJobs = 1000

// insertDeliveries inserts the delivery jobs of a fan-out in tx.
func insertDeliveries(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, params []river.InsertManyParams) error {
	switch {
	case len(params) == 0:
		return nil
	case len(params) < copyFromJobs:
		_, err := client.InsertManyTx(ctx, tx, params)
		return err
	default:
		_, err := client.InsertManyFastTx(ctx, tx, params)
		return err
	}
}

// memberTargets returns the inboxes that reach the accepted remote members
// of a course (only those who came by via, unless via is empty): for each
// host, the one shared inbox its members declare most often, and personal
// inboxes only of members on hosts without a shared inbox. However many
// distinct sharedInbox strings a host's actors declare, the host gets one
// delivery: a peer cannot make a course post to it a thousand times.
func memberTargets(ctx context.Context, tx pgx.Tx, courseID int64, via string) ([]string, error) {
	var b pgx.Batch
	var members []memberRow
	queueMemberTargets(&b, courseID, via, &members)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	return electTargets(members), nil
}

// memberRow is a distinct shared inbox with the number of members naming
// it, or the personal inbox of a member without one.
type memberRow struct {
	shared, inbox string
	members       int
}

// queueMemberTargets queues on b the query of memberTargets, whose rows
// go to out when b runs.
func queueMemberTargets(b *pgx.Batch, courseID int64, via string, out *[]memberRow) {
	// PostgreSQL collapses the members to their distinct shared inboxes with
	// a count each (a hundred rows for ten thousand members on a hundred
	// servers), plus the personal inboxes of members without one; hosts are
	// still told apart in Go (electTargets), by hostOf, the same parse the
	// delivery uses.
	b.Queue(`
		SELECT shared_inbox, '', count(*) FROM course_members
		WHERE course_id = $1 AND state = 'accepted' AND user_id IS NULL
		  AND ($2 = '' OR via = $2) AND shared_inbox <> ''
		GROUP BY shared_inbox
		UNION ALL
		SELECT '', inbox, 0 FROM course_members
		WHERE course_id = $1 AND state = 'accepted' AND user_id IS NULL
		  AND ($2 = '' OR via = $2) AND shared_inbox = '' AND inbox <> ''`, courseID, via).Query(func(rows pgx.Rows) error {
		var err error
		*out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (memberRow, error) {
			var t memberRow
			return t, r.Scan(&t.shared, &t.inbox, &t.members)
		})
		if err != nil {
			return fmt.Errorf("member inboxes of course %d: %w", courseID, err)
		}
		return nil
	})
}

// electTargets picks, per host, the shared inbox most members name (ties:
// the smallest URL), and keeps personal inboxes only on hosts that have
// none.
func electTargets(targets []memberRow) []string {
	votes := make(map[string]map[string]int) // host → shared inbox → members naming it
	for _, t := range targets {
		if t.shared == "" {
			continue
		}
		h := hostOf(t.shared)
		if votes[h] == nil {
			votes[h] = make(map[string]int)
		}
		votes[h][t.shared] += t.members
	}
	var out []string
	for _, byURL := range votes {
		best, n := "", 0
		for u, c := range byURL {
			if c > n || c == n && u < best {
				best, n = u, c
			}
		}
		out = append(out, best)
	}
	for _, t := range targets {
		if t.shared == "" && votes[hostOf(t.inbox)] == nil {
			out = append(out, t.inbox)
		}
	}
	return out
}

// hostOf is the lower-cased host[:port] of an inbox URL, or the URL itself
// when it does not parse (the delivery then fails on it alone).
func hostOf(inbox string) string {
	if u, err := url.Parse(inbox); err == nil && u.Host != "" {
		return strings.ToLower(u.Host)
	}
	return inbox
}

// batchByHost drops empty and repeated inboxes, groups the rest by host in
// batches of at most size, and orders the batches round-robin across
// hosts. River works jobs in insertion order, so without this a post to
// many personal inboxes (which arrive sorted) would send every worker to
// the same server at once: a burst no small instance enjoys.
func batchByHost(inboxes []string, size int) [][]string {
	size = cmp.Or(max(size, 0), 1)
	seen := make(map[string]bool, len(inboxes))
	byHost := make(map[string][][]string)
	var hosts []string
	for _, inbox := range inboxes {
		if inbox == "" || seen[inbox] {
			continue
		}
		seen[inbox] = true
		h := hostOf(inbox)
		b, ok := byHost[h]
		if !ok {
			hosts = append(hosts, h)
		}
		if len(b) == 0 || len(b[len(b)-1]) == size {
			b = append(b, nil)
		}
		b[len(b)-1] = append(b[len(b)-1], inbox)
		byHost[h] = b
	}
	var out [][]string
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
