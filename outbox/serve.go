package outbox

import (
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"
)

// ServeActivity serves GET of a public activity this instance sent, by its
// id, since every id colearn emits must be dereferenceable. Unknown ids are
// 404, and so are activities addressed to particular actors (an Accept, a
// Join, a Leave, a Reject): what was sent to one peer is not for everyone.
func (o *Outbox) ServeActivity(w http.ResponseWriter, r *http.Request, id string) {
	var body string
	err := o.pool.QueryRow(r.Context(), `SELECT body FROM outbox_activities WHERE id = $1 AND public`, id).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		http.Error(w, "no such activity", http.StatusNotFound)
		return
	}
	if err != nil {
		o.log.Error("serve activity", "id", id, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/activity+json; charset=utf-8")
	w.Write([]byte(body))
}
