package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// profileInto fetches a CPU profile of the instance lasting seconds from
// its metrics listener into dir/name, in the background; wait for the
// returned channel before reading the file. It is the benchmark's
// COLEARN_INBOXLOAD_PROFILE hook, so that what the server spends its cores
// on is measured under the driver, not guessed.
func (in *instance) profileInto(t testing.TB, dir, name string, seconds int) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", in.metrics, seconds)
		resp, err := http.Get(url)
		if err != nil {
			t.Logf("profile %s: %v", name, err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Logf("profile %s: %v", name, err)
			return
		}
		defer f.Close()
		if _, err := io.Copy(f, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
			t.Logf("profile %s: status %d, %v", name, resp.StatusCode, err)
		}
	}()
	return done
}
