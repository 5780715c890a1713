package courses

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Content turns what people write into HTML that is safe to store and show:
// Markdown from local authors, and HTML from other servers, both passed
// through one sanitising policy (bluemonday's UGC policy: links get
// rel="nofollow noopener", no scripts, styles or event handlers).
type Content struct {
	once   sync.Once
	policy *bluemonday.Policy
	strict *bluemonday.Policy
	md     goldmark.Markdown
	post   goldmark.Markdown // md with mentions and hashtags (compose.go)
}

func (c *Content) init() {
	c.once.Do(func() {
		p := bluemonday.UGCPolicy()
		p.AddTargetBlankToFullyQualifiedLinks(true)
		p.RequireNoReferrerOnLinks(true)
		// The classes Mastodon and colearn mark mentions and hashtags with,
		// so that they keep their look wherever they are shown; no others.
		p.AllowAttrs("class").Matching(regexp.MustCompile(`^(h-card|u-url mention|mention|mention hashtag|hashtag|invisible|ellipsis)$`)).OnElements("a", "span")
		c.policy = p
		c.strict = bluemonday.StrictPolicy()
		// goldmark's default leaves raw HTML out (it is not "unsafe"), and the
		// sanitiser runs on its output anyway.
		c.md = goldmark.New(goldmark.WithExtensions(extension.GFM))
		c.post = postMarkdown()
	})
}

// Sanitize cleans remote or stored HTML.
func (c *Content) Sanitize(html string) string {
	c.init()
	return c.policy.Sanitize(html)
}

// Markdown renders Markdown to sanitised HTML.
func (c *Content) Markdown(src string) string {
	c.init()
	var b bytes.Buffer
	if err := c.md.Convert([]byte(src), &b); err != nil {
		return c.policy.Sanitize("<p>" + src + "</p>")
	}
	return c.policy.Sanitize(b.String())
}

// policyText strips every tag, for plain-text fields such as titles.
func (c *Content) policyText(s string) string {
	c.init()
	return html.UnescapeString(c.strict.Sanitize(s))
}

// Excerpt renders Markdown as plain text, with runs of white space folded,
// and cuts it at a word boundary to at most n runes, ending in "…" when it
// was cut. It is for previews such as the course catalogue; the result is
// text that the caller still has to escape.
func (c *Content) Excerpt(markdown string, n int) string {
	return c.ExcerptHTML(c.Markdown(markdown), n)
}

// ExcerptHTML is Excerpt for HTML, such as a stored post's content.
func (c *Content) ExcerptHTML(html string, n int) string {
	text := strings.Join(strings.Fields(c.policyText(html)), " ")
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " .,;:") + "…"
}
