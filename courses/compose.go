package courses

import (
	"bytes"
	"fmt"
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Composition is a post's Markdown parsed once, so that the mentions it
// makes can be resolved (over the network, outside any transaction) before
// it is rendered. Mentions (`@name@host`, or `@name` for a local user) and
// hashtags (`#word`) are found by a goldmark inline parser, so that code
// spans, code blocks and link texts are left alone; the rendered HTML still
// goes through the sanitising policy.
type Composition struct {
	c   *Content
	src []byte
	doc ast.Node
}

// MentionTarget is what a mention resolved to: the actor's IRI and its full
// @name@host handle.
type MentionTarget struct {
	Href, Handle string
}

// Compose parses a local post's Markdown.
func (c *Content) Compose(markdown string) *Composition {
	c.init()
	src := []byte(markdown)
	return &Composition{c: c, src: src, doc: c.post.Parser().Parse(text.NewReader(src))}
}

// Mentions returns the distinct handles the post mentions, as written
// without the leading "@": "name@host" or "name".
func (m *Composition) Mentions() []string {
	var out []string
	seen := map[string]bool{}
	m.walk(func(n *mentionNode) {
		if !seen[n.handle] {
			seen[n.handle] = true
			out = append(out, n.handle)
		}
	}, nil)
	return out
}

// Render renders the post as sanitised HTML: the mentions found in targets
// (keyed as Mentions returns them) become links to the actor, the others
// stay plain text; every hashtag links to tagURL of its lower-cased name.
// It returns the post's Mention and Hashtag tags, one per actor or word.
func (m *Composition) Render(targets map[string]MentionTarget, tagURL func(name string) string) (string, []PostTag) {
	var tags []PostTag
	seen := map[string]bool{}
	m.walk(func(n *mentionNode) {
		t, ok := targets[n.handle]
		if !ok {
			return
		}
		n.href = t.Href
		if !seen[t.Href] {
			seen[t.Href] = true
			tags = append(tags, PostTag{Type: TagMention, Name: t.Handle, Href: t.Href})
		}
	}, func(n *hashtagNode) {
		n.href = tagURL(strings.ToLower(n.name))
		if !seen["#"+strings.ToLower(n.name)] {
			seen["#"+strings.ToLower(n.name)] = true
			tags = append(tags, PostTag{Type: TagHashtag, Name: "#" + strings.ToLower(n.name), Href: n.href})
		}
	})
	var b bytes.Buffer
	if err := m.c.post.Renderer().Render(&b, m.src, m.doc); err != nil {
		return m.c.policy.Sanitize("<p>" + html.EscapeString(string(m.src)) + "</p>"), nil
	}
	return m.c.policy.Sanitize(b.String()), tags
}

func (m *Composition) walk(mention func(*mentionNode), hashtag func(*hashtagNode)) {
	_ = ast.Walk(m.doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link, *ast.AutoLink:
			return ast.WalkSkipChildren, nil
		case *mentionNode:
			if mention != nil {
				mention(n)
			}
		case *hashtagNode:
			if hashtag != nil {
				hashtag(n)
			}
		}
		return ast.WalkContinue, nil
	})
}

// postMarkdown is goldmark with GFM and the mention and hashtag parsers.
func postMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithInlineParsers(
			util.Prioritized(mentionParser{}, 500), util.Prioritized(hashtagParser{}, 500))),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(socialRenderer{}, 500))),
	)
}

var (
	kindMention = ast.NewNodeKind("Mention")
	kindHashtag = ast.NewNodeKind("Hashtag")
)

type mentionNode struct {
	ast.BaseInline
	handle string // name or name@host
	href   string // set when resolved
}

func (n *mentionNode) Kind() ast.NodeKind { return kindMention }
func (n *mentionNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"handle": n.handle}, nil)
}

type hashtagNode struct {
	ast.BaseInline
	name string
	href string
}

func (n *hashtagNode) Kind() ast.NodeKind { return kindHashtag }
func (n *hashtagNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"name": n.name}, nil)
}

// boundary reports whether r may come right before a mention or hashtag:
// the start of a line, white space or punctuation other than what joins
// words, addresses and URLs.
func boundary(r rune) bool {
	if r == '\n' || r == utf8.RuneError {
		return true
	}
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_@/.:#&-+=%~", r)
}

type mentionParser struct{}

func (mentionParser) Trigger() []byte { return []byte{'@'} }

func (mentionParser) Parse(_ ast.Node, block text.Reader, pc parser.Context) ast.Node {
	if pc.IsInLinkLabel() || !boundary(block.PrecendingCharacter()) {
		return nil
	}
	line, _ := block.PeekLine()
	name := scan(line[1:], func(r rune) bool { return r < utf8.RuneSelf && (isWordByte(byte(r)) || r == '.' || r == '-') })
	name = strings.TrimRight(name, ".-")
	if name == "" {
		return nil
	}
	n := 1 + len(name)
	handle := name
	if n < len(line) && line[n] == '@' {
		host := scan(line[n+1:], func(r rune) bool {
			return r < utf8.RuneSelf && (isWordByte(byte(r)) || r == '.' || r == '-' || r == ':')
		})
		host = strings.TrimRight(host, ".-:")
		if host == "" || !strings.ContainsAny(host, ".:") && host != "localhost" {
			return nil // an e-mail-like "@a@b" that names no host
		}
		handle += "@" + strings.ToLower(host)
		n += 1 + len(host)
	}
	if n < len(line) && (line[n] == '@' || isWordByte(line[n])) {
		return nil
	}
	block.Advance(n)
	return &mentionNode{handle: handle}
}

type hashtagParser struct{}

func (hashtagParser) Trigger() []byte { return []byte{'#'} }

func (hashtagParser) Parse(_ ast.Node, block text.Reader, pc parser.Context) ast.Node {
	if pc.IsInLinkLabel() || !boundary(block.PrecendingCharacter()) {
		return nil
	}
	line, _ := block.PeekLine()
	name := scan(line[1:], func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' })
	if name == "" || utf8.RuneCountInString(name) > 100 || strings.IndexFunc(name, unicode.IsLetter) < 0 {
		return nil
	}
	block.Advance(1 + len(name))
	return &hashtagNode{name: name}
}

// scan returns the longest prefix of b whose runes satisfy ok.
func scan(b []byte, ok func(rune) bool) string {
	i := 0
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if !ok(r) {
			break
		}
		i += size
	}
	return string(b[:i])
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// socialRenderer writes mentions as Mastodon does (an h-card), so that
// other servers style and link them, and hashtags as rel="tag" links.
type socialRenderer struct{}

func (socialRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindMention, func(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		n := node.(*mentionNode)
		if n.href == "" {
			_, err := w.WriteString(html.EscapeString("@" + n.handle))
			return ast.WalkContinue, err
		}
		name, _, _ := strings.Cut(n.handle, "@")
		_, err := fmt.Fprintf(w, `<span class="h-card"><a href="%s" class="u-url mention">@<span>%s</span></a></span>`,
			html.EscapeString(n.href), html.EscapeString(name))
		return ast.WalkContinue, err
	})
	reg.Register(kindHashtag, func(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		n := node.(*hashtagNode)
		_, err := fmt.Fprintf(w, `<a href="%s" class="mention hashtag" rel="tag">#<span>%s</span></a>`,
			html.EscapeString(n.href), html.EscapeString(n.name))
		return ast.WalkContinue, err
	})
}
