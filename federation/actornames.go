package federation

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// StoredActors returns, in one query, the remote actors among iris that
// the resolver has fetched and stored before, keyed by IRI. It never
// fetches: an actor it has not stored (or whose stored document no longer
// parses) is left out, so that a page listing many remote courses costs one
// query and no request to their servers. It fails only when the database
// does.
func StoredActors(ctx context.Context, q courses.Querier, iris []string) (map[string]RemoteActor, error) {
	out := make(map[string]RemoteActor, len(iris))
	if len(iris) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT iri, document FROM remote_actors WHERE iri = ANY($1)`, iris)
	if err != nil {
		return nil, fmt.Errorf("stored actors: %w", err)
	}
	var iri string
	var doc []byte
	_, err = pgx.ForEachRow(rows, []any{&iri, &doc}, func() error {
		if a, err := ParseActor(doc, iri); err == nil {
			out[iri] = a
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stored actors: %w", err)
	}
	return out, nil
}
