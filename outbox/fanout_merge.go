package outbox

import (
	"strings"

	"github.com/riverqueue/river"
)

// maxActivitiesPerFanout bounds the activities one fan-out job expands, so
// that one job's transaction (its delivery jobs: activities × host
// batches) stays small.
const maxActivitiesPerFanout = 100

// mergeFanouts folds the fan-out jobs among jobs that name the same
// recipients (course and way, user, extra inboxes) into one job carrying
// all their activities, in order, at most maxActivitiesPerFanout each; other
// jobs pass unchanged. The fan-out's own cost (a job, a member query, a
// durable commit) is then paid once per batch instead of once per
// activity, and its delivery jobs carry the batch's activities together
// to each host (deliveryJobs), in order, each retried on its own.
func mergeFanouts(jobs []river.InsertManyParams) []river.InsertManyParams {
	type recipients struct {
		followersOf, userFollowersOf int64
		via, inboxes                 string
	}
	open := make(map[recipients]int) // → index in out of the job still taking activities
	out := make([]river.InsertManyParams, 0, len(jobs))
	for _, j := range jobs {
		a, ok := j.Args.(fanoutArgs)
		if !ok || j.InsertOpts != nil {
			out = append(out, j)
			continue
		}
		k := recipients{a.FollowersOf, a.UserFollowersOf, a.FollowersVia, strings.Join(a.Inboxes, "\n")}
		if i, ok := open[k]; ok {
			m := out[i].Args.(fanoutArgs)
			if len(m.More)+1+len(a.activities()) <= maxActivitiesPerFanout {
				m.More = append(m.More, a.activities()...)
				out[i].Args = m
				continue
			}
		}
		a.More = append([]string(nil), a.More...) // owned by the merged job
		open[k] = len(out)
		out = append(out, river.InsertManyParams{Args: a})
	}
	return out
}
