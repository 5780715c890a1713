package web

import "net/http"

// securityHeaders sets headers that keep the pages from being framed,
// sniffed or made to run injected scripts. The pages use no scripts at all.
// Images may come from any https origin: remote posts' image attachments
// are shown by their own URL, never proxied (see FEDERATION.md, "Posts that
// render well elsewhere"); plain-http images stay blocked.
//
//	r.Use(securityHeaders)
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}
