package courses_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/colearn/colearn/courses"
)

func TestComposeFindsMentionsAndHashtags(t *testing.T) {
	t.Parallel()
	targets := map[string]courses.MentionTarget{
		"bob@example.org":  {Href: "https://example.org/users/bob", Handle: "@bob@example.org"},
		"pia@127.0.0.1:99": {Href: "http://127.0.0.1:99/users/pia", Handle: "@pia@127.0.0.1:99"},
		"olga":             {Href: "https://here/users/olga", Handle: "@olga@here"},
	}
	tagURL := func(n string) string { return "https://here/tags/" + n }
	for _, tc := range []struct {
		name, src    string
		mentions     []string
		contains     []string
		lacks        []string
		mentionHrefs []string
		hashtagNames []string
	}{
		{name: "RemoteAndLocal", src: "Hi @bob@example.org and @olga!",
			mentions:     []string{"bob@example.org", "olga"},
			contains:     []string{`<span class="h-card"><a href="https://example.org/users/bob" class="u-url mention"`, `>@<span>bob</span></a></span>`, `href="https://here/users/olga"`},
			mentionHrefs: []string{"https://example.org/users/bob", "https://here/users/olga"}},
		{name: "HostWithPort", src: "@pia@127.0.0.1:99: hello",
			mentions: []string{"pia@127.0.0.1:99"}, contains: []string{`href="http://127.0.0.1:99/users/pia"`, "</span></a></span>: hello"},
			mentionHrefs: []string{"http://127.0.0.1:99/users/pia"}},
		{name: "UnresolvedStaysText", src: "ask @nobody@example.net",
			mentions: []string{"nobody@example.net"}, contains: []string{"ask @nobody@example.net"}, lacks: []string{"mention"}},
		{name: "EmailIsNoMention", src: "mail bob@example.org", lacks: []string{"u-url"}},
		{name: "CodeIsLeftAlone", src: "`@bob@example.org #go`\n\n    @olga #x\n", lacks: []string{"mention", "hashtag"}},
		{name: "LinkTextIsLeftAlone", src: "[@bob@example.org #go](https://example.com)", lacks: []string{"u-url", "hashtag"}},
		{name: "Hashtags", src: "#Go at the start, #go again, #2024 is no tag, C#sharp neither, #café is",
			contains:     []string{`<a href="https://here/tags/go" class="mention hashtag"`, `#<span>Go</span>`, "#2024", "C#sharp", `href="https://here/tags/caf%C3%A9"`},
			hashtagNames: []string{"#go", "#café"}},
		{name: "HostileHandle", src: `@bob@example.org"><script>alert(1)</script>`,
			mentions: []string{"bob@example.org"}, lacks: []string{"<script"}, mentionHrefs: []string{"https://example.org/users/bob"}},
		{name: "HeadingIsNotAHashtag", src: "# Title\n\ntext", contains: []string{"<h1>Title</h1>"}, lacks: []string{"hashtag"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c courses.Content
			m := c.Compose(tc.src)
			if got := m.Mentions(); !slices.Equal(got, tc.mentions) {
				t.Errorf("mentions %q, want %q", got, tc.mentions)
			}
			html, tags := m.Render(targets, tagURL)
			for _, want := range tc.contains {
				if !strings.Contains(html, want) {
					t.Errorf("HTML lacks %s:\n%s", want, html)
				}
			}
			for _, bad := range tc.lacks {
				if strings.Contains(html, bad) {
					t.Errorf("HTML has %s:\n%s", bad, html)
				}
			}
			var hrefs, names []string
			for _, tag := range tags {
				switch tag.Type {
				case courses.TagMention:
					hrefs = append(hrefs, tag.Href)
				case courses.TagHashtag:
					names = append(names, tag.Name)
				}
			}
			if !slices.Equal(hrefs, tc.mentionHrefs) || !slices.Equal(names, tc.hashtagNames) {
				t.Errorf("tags %+v, want mentions %q and hashtags %q", tags, tc.mentionHrefs, tc.hashtagNames)
			}
		})
	}
}

// FuzzCompose feeds arbitrary Markdown through the mention and hashtag
// parsers: they never panic, and what comes out is sanitised.
func FuzzCompose(f *testing.F) {
	for _, s := range []string{"@a@b.c #d", "@", "#", "@@", "##", "@a@", "`@a`", "[@a](x)", "@a@1.2.3.4:5 #é_1", "@a.-@b.-:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		var c courses.Content
		m := c.Compose(src)
		targets := map[string]courses.MentionTarget{}
		for _, h := range m.Mentions() {
			targets[h] = courses.MentionTarget{Href: "https://x/" + h, Handle: "@" + h}
		}
		html, _ := m.Render(targets, func(n string) string { return "https://x/tags/" + n })
		if strings.Contains(strings.ToLower(html), "<script") {
			t.Fatalf("script in %q", html)
		}
	})
}
