package main

import (
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestTextPostgreSQLNeverStoresIsRefused: a NUL character or bytes that
// are not UTF-8, in a path, a query or a form, get a 400 naming where they
// are, where each of these requests used to reach the database and answer
// 500 (SQLSTATE 22021). The same requests with plain text are answered as
// usual.
func TestTextPostgreSQLNeverStoresIsRefused(t *testing.T) {
	t.Parallel()
	ti := startInstance(t, testInstanceOptions{})
	base := "http://" + ti.addr
	do := func(method, path, form string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(form))
		if err != nil {
			t.Fatal(err)
		}
		if form != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, html.UnescapeString(string(body))
	}
	for _, c := range []struct {
		method, path, form, where string
		plain                     int // the status of the same request with "ab"
	}{
		{"POST", "/signin", "username=a%00b&password=a+long+password", `field "username"`, http.StatusUnauthorized},
		{"GET", "/.well-known/webfinger?resource=acct:a%00b@" + ti.addr, "", `field "resource"`, http.StatusNotFound},
		{"GET", "/users/a%00b", "", "the path", http.StatusNotFound},
		{"GET", "/courses?q=a%FFb", "", `field "q"`, http.StatusOK},
		{"GET", "/courses?a%00b=1", "", "a field name", http.StatusOK},
	} {
		status, body := do(c.method, c.path, c.form)
		if status != http.StatusBadRequest || !strings.Contains(body, c.where) || !strings.Contains(body, "NUL character or is not UTF-8") {
			t.Errorf("%s %s %q: %d %q, want 400 naming %s", c.method, c.path, c.form, status, body, c.where)
		}
		plain := func(s string) string { return strings.NewReplacer("%00", "", "%FF", "").Replace(s) }
		if status, body := do(c.method, plain(c.path), plain(c.form)); status != c.plain {
			t.Errorf("%s %s %q: %d %q, want %d", c.method, plain(c.path), plain(c.form), status, body, c.plain)
		}
	}
}
