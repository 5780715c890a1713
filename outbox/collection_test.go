package outbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestCollectionPagesPublicActivitiesNewestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, err := New(Config{Pool: b.pool, Keys: b.keys, Client: b.client})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		for n := 1; n <= 25; n++ {
			if err := o.Publish(ctx, tx, b.activity(n)); err != nil {
				return err
			}
		}
		private := b.activity(26)
		private.Public = false
		other := b.activity(27)
		other.ActorIRI = "https://learn.test/users/alice"
		if err := o.Publish(ctx, tx, private); err != nil {
			return err
		}
		return o.Publish(ctx, tx, other)
	})
	if err != nil {
		t.Fatal(err)
	}
	id := b.actorIRI + "/outbox"
	get := func(query string, wantStatus int) map[string]any {
		t.Helper()
		w := httptest.NewRecorder()
		o.Collection(w, httptest.NewRequest(http.MethodGet, "/courses/intro/outbox"+query, nil), b.actorIRI)
		if w.Code != wantStatus {
			t.Fatalf("GET %s: %d %s", query, w.Code, w.Body)
		}
		if wantStatus != http.StatusOK {
			return nil
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/activity+json; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", query, ct)
		}
		var doc map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc["@context"] != activityStreams {
			t.Errorf("GET %s: @context %v", query, doc["@context"])
		}
		return doc
	}
	itemIDs := func(doc map[string]any) []string {
		var ids []string
		for _, it := range doc["orderedItems"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		return ids
	}

	root := get("", http.StatusOK)
	if root["type"] != "OrderedCollection" || root["id"] != id || root["totalItems"] != float64(25) || root["first"] != id+"?page=1" {
		t.Fatalf("collection %v", root)
	}
	first := get("?page=1", http.StatusOK)
	ids := itemIDs(first)
	if len(ids) != PageSize || ids[0] != b.activity(25).ID || ids[19] != b.activity(6).ID {
		t.Fatalf("page 1 holds %v", ids)
	}
	if first["type"] != "OrderedCollectionPage" || first["partOf"] != id || first["prev"] != nil {
		t.Errorf("page 1: %v", first)
	}
	next, _ := first["next"].(string)
	if next == "" {
		t.Fatal("page 1 has no next")
	}
	rest := get(next[len(id):], http.StatusOK)
	if ids := itemIDs(rest); len(ids) != 5 || ids[0] != b.activity(5).ID || ids[4] != b.activity(1).ID {
		t.Fatalf("%s holds %v", next, ids)
	}
	if rest["next"] != nil {
		t.Errorf("last page has next %v", rest["next"])
	}
	second := get("?page=2", http.StatusOK)
	if len(itemIDs(second)) != 5 || second["prev"] != id+"?page=1" {
		t.Errorf("page 2: %v", second)
	}
	if empty := get("?page=9", http.StatusOK); len(empty["orderedItems"].([]any)) != 0 {
		t.Errorf("page 9: %v", empty)
	}
	for _, q := range []string{"?page=0", "?page=x", "?before=-3", "?before="} {
		get(q, http.StatusBadRequest)
	}
}
