package inbox

import (
	"slices"
	"testing"

	"github.com/colearn/colearn/courses"
)

func TestSetRichReadsTheShapesInTheWild(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc   string
		summary     string
		sensitive   bool
		tags        []courses.PostTag
		attachments []courses.PostAttachment
	}{
		{name: "Mastodon", doc: `{"summary":"cw","sensitive":true,
			"tag":[{"type":"Mention","href":"https://m/u/a","name":"@a@m"},{"type":"Hashtag","href":"https://m/tags/go","name":"#go"}],
			"attachment":[{"type":"Document","mediaType":"image/jpeg","url":"https://m/a.jpg","name":"alt"}]}`,
			summary: "cw", sensitive: true,
			tags:        []courses.PostTag{{Type: "Mention", Name: "@a@m", Href: "https://m/u/a"}, {Type: "Hashtag", Name: "#go", Href: "https://m/tags/go"}},
			attachments: []courses.PostAttachment{{Type: "Document", MediaType: "image/jpeg", URL: "https://m/a.jpg", Name: "alt"}}},
		{name: "OneTagObjectAndLinkURLs", doc: `{"summaryMap":{"en":"warn"},
			"tag":{"type":"Mention","href":"https://m/u/a","name":"@a"},
			"attachment":{"type":"Image","url":[{"type":"Link","href":"https://m/b.png","mediaType":"image/png"}]}}`,
			summary:     "warn",
			tags:        []courses.PostTag{{Type: "Mention", Name: "@a", Href: "https://m/u/a"}},
			attachments: []courses.PostAttachment{{Type: "Image", URL: "https://m/b.png"}}},
		{name: "Garbage", doc: `{"summary":7,"sensitive":"yes","tag":"x","attachment":[1,"y",null]}`},
		{name: "NotJSON", doc: `{`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p courses.Post
			setRich(&p, []byte(tc.doc))
			if p.Summary != tc.summary || p.Sensitive != tc.sensitive || !slices.Equal(p.Tags, tc.tags) || !slices.Equal(p.Attachments, tc.attachments) {
				t.Errorf("got %q %v %+v %+v", p.Summary, p.Sensitive, p.Tags, p.Attachments)
			}
		})
	}
}

// FuzzSetRich: any remote post document is read without panicking.
func FuzzSetRich(f *testing.F) {
	for _, s := range []string{`{"tag":[{"type":"Mention"}]}`, `{"attachment":{"url":[[]]}}`, `{"summary":["a"]}`, `[]`, `{"url":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var p courses.Post
		setRich(&p, doc)
	})
}
