package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) }))
	t.Cleanup(srv.Close)
	tests := []struct {
		name    string
		args    []string
		wantErr string
		wantOut string
	}{
		{"ratio", []string{"-url", srv.URL, "-baseline", srv.URL, "-duration", "50ms", "-concurrency", "2"}, "", "ratio "},
		{"no url", nil, "-url is required", ""},
		{"remote url", []string{"-url", "http://192.0.2.1/"}, "loopback", ""},
		{"remote baseline", []string{"-url", srv.URL, "-baseline", "http://example.org/"}, "loopback", ""},
		{"too long", []string{"-url", srv.URL, "-duration", "61s"}, "at most", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errOut)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run = %v, want error containing %q", err, tt.wantErr)
				}
				if out.Len() > 0 {
					t.Errorf("refused run printed %q", out.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.wantOut) || strings.Contains(out.String(), "first error") {
				t.Errorf("output %q, want %q and no errors", out.String(), tt.wantOut)
			}
		})
	}
}
