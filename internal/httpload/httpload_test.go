package httpload_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/colearn/colearn/internal/httpload"
)

func TestCheckLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080/actor", true},
		{"http://127.9.8.7/", true},
		{"http://[::1]:8080/", true},
		{"https://localhost/users/ada", true},
		{"http://10.0.0.1/", false},
		{"http://[::ffff:10.0.0.1]/", false},
		{"http://example.org/", false},
		{"http://localhost.example.org/", false},
		{"http://127.0.0.1.nip.io/", false},
		{"ftp://127.0.0.1/", false},
		{"127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		err := httpload.CheckLoopback(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
	if err := httpload.CheckLoopback("http://192.0.2.1/"); !errors.Is(err, httpload.ErrNotLoopback) {
		t.Errorf("CheckLoopback of a public address = %v, want ErrNotLoopback", err)
	}
}

func TestRunCountsRequestsAndErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/activity+json" {
			http.Error(w, "wrong accept", http.StatusNotAcceptable)
			return
		}
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()

	res, err := httpload.Run(ctx, httpload.Options{URL: srv.URL, Accept: "application/activity+json", Concurrency: 4, Requests: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 100 || res.Errors != 0 || res.P99 < res.P50 || res.Rate() <= 0 {
		t.Errorf("run = %+v, want 100 requests, no errors", res)
	}

	res, err = httpload.Run(ctx, httpload.Options{URL: srv.URL, Concurrency: 2, Duration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != res.Requests || res.FirstError == nil {
		t.Errorf("run without Accept = %+v, want every request counted as an error", res)
	}
}
