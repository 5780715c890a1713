package federation

import (
	"net/http"
	"strings"
	"time"
)

// Cache-Control values of the documents colearn serves.
const (
	// CachePublic lets shared caches keep a public document briefly; a
	// change is visible to them within a minute and at once here.
	CachePublic = "public, max-age=60"
	// CachePrivate is for what depends on who asks: a signed fetch (in
	// authorized-fetch mode) or a signed-in visitor's page. Shared caches
	// must not keep it; the asker's own cache must revalidate.
	CachePrivate = "private, no-cache"
)

// WriteDoc answers r with d: 304 Not Modified when r's If-None-Match names
// d's ETag (or, without If-None-Match, when If-Modified-Since is not before
// d.LastModified), else d's status and body. cacheControl is sent as
// Cache-Control (CachePublic or CachePrivate); vary lists request headers
// the answer depends on, added to Vary.
func WriteDoc(w http.ResponseWriter, r *http.Request, d Doc, cacheControl string, vary ...string) {
	h := w.Header()
	if d.ContentType != "" {
		h.Set("Content-Type", d.ContentType)
	}
	if cacheControl != "" {
		h.Set("Cache-Control", cacheControl)
	}
	for _, v := range vary {
		h.Add("Vary", v)
	}
	if d.ETag != "" {
		h.Set("ETag", d.ETag)
	}
	if !d.LastModified.IsZero() {
		h.Set("Last-Modified", d.LastModified.UTC().Format(http.TimeFormat))
	}
	status := d.Status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusOK && notModified(r, d) {
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(d.Body)
	}
}

// notModified applies RFC 9110's conditional GET rules: If-None-Match
// wins over If-Modified-Since, and compares weakly.
func notModified(r *http.Request, d Doc) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if d.ETag == "" {
			return false
		}
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == strings.TrimPrefix(d.ETag, "W/") {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !d.LastModified.IsZero() {
		t, err := http.ParseTime(ims)
		return err == nil && !d.LastModified.Truncate(time.Second).After(t)
	}
	return false
}
