package courses_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/colearn/colearn/courses"
)

// FuzzReadArchive feeds ReadArchive arbitrary bytes and small tar.gz
// archives: it must never panic, and anything it refuses is ErrBadArchive.
func FuzzReadArchive(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x1f\x8b\x08\x00"))
	var buf bytes.Buffer
	a := &courses.Archive{}
	a.Manifest.Format, a.Manifest.Version, a.Manifest.Licence = courses.ArchiveFormat, courses.ArchiveVersion, "CC-BY-4.0"
	a.Manifest.Course.Slug, a.Manifest.Course.Title = "seed", "Seed"
	a.Manifest.Origin = courses.Origin{IRI: "https://learn.example/courses/seed", Title: "Seed"}
	if err := courses.WriteArchive(&buf, a); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := courses.ReadArchive(bytes.NewReader(data))
		if err != nil && !errors.Is(err, courses.ErrBadArchive) {
			t.Fatalf("ReadArchive: %v is not ErrBadArchive", err)
		}
		if err == nil && got == nil {
			t.Fatal("no archive and no error")
		}
	})
}
