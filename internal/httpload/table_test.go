package httpload

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMeasureTable(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/fast", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // far below the fast handler's rate
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusInternalServerError) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tb, err := MeasureTable(context.Background(), Target{Name: "/fast", URL: srv.URL + "/fast"}, []Target{
		{Name: "fast again", URL: srv.URL + "/fast", Want: 0.1},
		{Name: "slow", URL: srv.URL + "/slow", Want: 0.8},
		{Name: "broken", URL: srv.URL + "/broken", Want: 0.1},
	}, 2, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	miss := map[string]bool{}
	for _, r := range tb.Rows {
		miss[r.Name] = r.Miss()
		if r.Baseline.Requests == 0 {
			t.Errorf("%s: no baseline measured beside it", r.Name)
		}
	}
	if miss["fast again"] || !miss["slow"] || !miss["broken"] {
		t.Errorf("misses = %v, want only slow and broken", miss)
	}
	var out bytes.Buffer
	tb.Print(&out)
	if strings.Count(out.String(), "MISS") != 2 {
		t.Errorf("table shows %d MISS, want 2:\n%s", strings.Count(out.String(), "MISS"), out.String())
	}
	if _, err := MeasureTable(context.Background(), Target{URL: srv.URL}, []Target{{URL: "http://192.0.2.1/"}}, 1, time.Millisecond); err == nil {
		t.Error("a non-loopback target was accepted")
	}
}
