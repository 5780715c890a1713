package outbox

import "github.com/riverqueue/river"

// River queue names. Deliveries have their own queue so that a slow fan-out
// never holds a delivery slot, and the other way round.
const (
	queueFanout   = "fanout"
	queueDelivery = "delivery"
)

// fanoutArgs expands one stored activity into delivery jobs.
type fanoutArgs struct {
	ActivityID  string   `json:"activity_id"`
	FollowersOf int64    `json:"followers_of,omitempty"`
	Inboxes     []string `json:"inboxes,omitempty"`
}

func (fanoutArgs) Kind() string { return "outbox_fanout" }

func (fanoutArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueFanout, MaxAttempts: 25}
}

// deliveryArgs sends one stored activity to one inbox. The body is not in
// the job: it is read from outbox_activities when the job runs, so ten
// thousand jobs for one post cost ten thousand small rows, not ten thousand
// copies of the post.
type deliveryArgs struct {
	ActivityID string `json:"activity_id"`
	Inbox      string `json:"inbox"`
}

func (deliveryArgs) Kind() string { return "outbox_delivery" }

func (deliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueDelivery, MaxAttempts: MaxAttempts}
}
