package federation

import (
	"bytes"
	"net/http"
)

// Recorder is an http.ResponseWriter that keeps what a handler writes, so
// that a handler's answer can be put in the DocCache. Its status is 200
// until the handler writes another.
type Recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{header: http.Header{}, status: http.StatusOK} }

// Header returns the recorded headers.
func (r *Recorder) Header() http.Header { return r.header }

// Write records body bytes.
func (r *Recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

// WriteHeader records the status.
func (r *Recorder) WriteHeader(status int) { r.status = status }

// Status is the recorded status.
func (r *Recorder) Status() int { return r.status }

// Body is the recorded body.
func (r *Recorder) Body() []byte { return r.body.Bytes() }

// Unkept is the error a DocCache render returns for an answer that must
// not be kept (an error page): it carries the answer so that it can still
// be passed through to the one who asked.
type Unkept struct{ Rec *Recorder }

func (u *Unkept) Error() string { return http.StatusText(u.Rec.status) }

// WriteTo sends the recorded answer to w as it was written.
func (u *Unkept) WriteTo(w http.ResponseWriter) {
	for k, v := range u.Rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(u.Rec.status)
	w.Write(u.Rec.body.Bytes())
}
