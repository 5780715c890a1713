package outbox

import (
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// River queue names. Deliveries have their own queue so that a slow fan-out
// never holds a delivery slot, and the other way round.
const (
	queueFanout   = "fanout"
	queueDelivery = "delivery"
)

// MaxInboxesPerJob bounds the inboxes of one host that one delivery job
// carries. Bigger batches cost less of River's bookkeeping per delivery;
// smaller ones spread a host's deliveries over more workers.
const MaxInboxesPerJob = 50

// fanoutArgs expands one stored activity into delivery jobs, or several
// with the same recipients (mergeFanouts).
type fanoutArgs struct {
	ActivityID string `json:"activity_id"`
	// More are further activities with the same recipients: those a batch
	// published together (the inbox applies Creates in sets, each announced
	// to the course's members), expanded by one job, one member query and
	// one commit instead of one each.
	More        []string `json:"more,omitempty"`
	FollowersOf int64    `json:"followers_of,omitempty"`
	// FollowersVia restricts FollowersOf to members who came by this way
	// ("follow", "join"); empty means all.
	FollowersVia string   `json:"followers_via,omitempty"`
	Inboxes      []string `json:"inboxes,omitempty"`
	// UserFollowersOf is a local user's id whose followers receive it.
	UserFollowersOf int64 `json:"user_followers_of,omitempty"`
}

func (fanoutArgs) Kind() string { return "outbox_fanout" }

// activities returns the ids of the activities the job fans out.
func (a fanoutArgs) activities() []string { return append([]string{a.ActivityID}, a.More...) }

func (fanoutArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueFanout, MaxAttempts: 25}
}

// deliveryArgs sends one or several stored activities, in order, to one or
// several inboxes of one host. The bodies are not in the job: they are read
// from outbox_activities when the job runs, so ten thousand deliveries of
// one post cost a few hundred small rows, not ten thousand copies of the
// post.
//
// When some deliveries of a job fail and others do not, the job completes
// and continuation jobs carry only what failed, with the failures so far
// (Failures) and the first enqueue time (Since), so that backoff and the
// give-up age run on as if it were the same job.
type deliveryArgs struct {
	ActivityID string `json:"activity_id"`
	// More are further activities for the same inboxes, sent after
	// ActivityID in this order: those a fan-out expanded together (a
	// batch's Announces to a course's members), so that a host gets one
	// job, one fetch and one completion for the batch, not one each.
	More []string `json:"more,omitempty"`
	// Inbox is the one inbox of a job enqueued before jobs carried several.
	Inbox    string    `json:"inbox,omitempty"`
	Inboxes  []string  `json:"inboxes,omitempty"`
	Failures int       `json:"failures,omitempty"`
	Since    time.Time `json:"since,omitzero"`
}

func (deliveryArgs) Kind() string { return "outbox_delivery" }

func (deliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueDelivery, MaxAttempts: MaxAttempts}
}

// deliverySetArgs is a deliveryArgs with further activities (More). It is a
// kind of its own so that a process older than jobs of several activities,
// which would send ActivityID alone and complete the job, never works one:
// River hands such a process's fetch of an unknown kind back as a failed
// attempt, and the job is retried until a process that knows it takes it.
type deliverySetArgs deliveryArgs

func (deliverySetArgs) Kind() string { return "outbox_delivery_set" }

func (deliverySetArgs) InsertOpts() river.InsertOpts { return deliveryArgs{}.InsertOpts() }

// insertable returns a as the job to insert: of its own kind when it
// carries several activities.
func (a deliveryArgs) insertable() river.JobArgs {
	if len(a.More) > 0 {
		return deliverySetArgs(a)
	}
	return a
}

// activityIDs returns the ids of the activities the job sends, in order.
func (a deliveryArgs) activityIDs() []string { return append([]string{a.ActivityID}, a.More...) }

// what names the job's activities in errors.
func (a deliveryArgs) what() string { return describeActivities(a.ActivityID, a.More) }

// describeActivities names a job's activities in errors: the first, and
// how many more.
func describeActivities(first string, more []string) string {
	if len(more) == 0 {
		return first
	}
	return fmt.Sprintf("%s and %d more", first, len(more))
}

// targets returns the job's inboxes, old single-inbox jobs included.
func (a deliveryArgs) targets() []string {
	if len(a.Inboxes) == 0 && a.Inbox != "" {
		return []string{a.Inbox}
	}
	return a.Inboxes
}
