package web

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/colearn/colearn/courses"
)

// diffLine is one line of a line-by-line comparison of two texts.
type diffLine struct {
	Op   string // "add", "del" or "same"
	Text string
}

// lineDiff compares two texts line by line (sergi/go-diff's line mode:
// each line is hashed to one rune, the runes are diffed, and turned back
// into lines), so a moved paragraph shows as removed and added lines.
func lineDiff(from, to string) []diffLine {
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToRunes(ensureNewline(from), ensureNewline(to))
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(a, b, false), lines)
	var out []diffLine
	for _, d := range diffs {
		op := "same"
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			op = "add"
		case diffmatchpatch.DiffDelete:
			op = "del"
		}
		for _, line := range strings.SplitAfter(d.Text, "\n") {
			if line != "" {
				out = append(out, diffLine{Op: op, Text: strings.TrimSuffix(line, "\n")})
			}
		}
	}
	return out
}

func ensureNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}

// draftText is a module's whole content as one text, for comparisons:
// every field a revision can change, then the body.
func draftText(d courses.ModuleDraft) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Title: %s\nSummary: %s\nEstimated time: %d minutes\n", d.Title, d.Summary, d.EstimatedMinutes)
	for _, l := range d.Links {
		fmt.Fprintf(&b, "Link: %s %s\n", l.URL, l.Title)
	}
	for _, a := range d.Attachments {
		fmt.Fprintf(&b, "Attachment: %s %s %s\n", a.URL, a.MediaType, a.Name)
	}
	b.WriteString("\n")
	b.WriteString(d.Body)
	return b.String()
}
