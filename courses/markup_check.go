package courses

import (
	"bytes"
	"regexp"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// hostileMarkup matches what Markdown must not smuggle into a page: script
// and embedding elements, event handler attributes, and script URLs.
var hostileMarkup = regexp.MustCompile(`(?i)<\s*/?\s*(script|iframe|object|embed|style|form|meta|link|base|svg|math)\b` +
	`|<[^>]*\son[a-z]+\s*=|(href|src|action|formaction|data)\s*=\s*["']?\s*(javascript|vbscript|livescript|data)\s*:`)

// checkMarkup refuses Markdown (what names where it came from) whose raw
// rendering would carry scripts. Pages sanitise everything anyway; this is
// for archives, where such content means the file is hostile or broken and
// the person importing it should know.
func checkMarkup(what, markdown string) error {
	md := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))
	var b bytes.Buffer
	if err := md.Convert([]byte(markdown), &b); err != nil {
		return badArchive("%s: the Markdown does not render: %v", what, err)
	}
	// Text and code blocks are escaped in the rendering, so a lesson about
	// HTML that shows <script> in a code block passes.
	if loc := hostileMarkup.FindStringIndex(b.String()); loc != nil {
		return badArchive("%s: the Markdown holds script or active content (%q); remove it and export again", what, b.String()[loc[0]:loc[1]])
	}
	return nil
}
