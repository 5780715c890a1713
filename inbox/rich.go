package inbox

import (
	"encoding/json"

	"github.com/colearn/colearn/courses"
)

// richDoc is what go-ap drops or keeps too loosely from a post: its
// content warning (summary, sensitive), its Mention and Hashtag tags and
// its attachments. It is read from the same JSON the post was decided on.
type richDoc struct {
	Summary    json.RawMessage   `json:"summary"`
	SummaryMap map[string]string `json:"summaryMap"`
	Sensitive  json.RawMessage   `json:"sensitive"`
	Tag        json.RawMessage   `json:"tag"`
	Attachment json.RawMessage   `json:"attachment"`
}

type richItem struct {
	Type      json.RawMessage `json:"type"`
	Name      json.RawMessage `json:"name"`
	Href      json.RawMessage `json:"href"`
	URL       json.RawMessage `json:"url"`
	MediaType json.RawMessage `json:"mediaType"`
}

// setRich puts the content warning, tags and attachments of the post
// document doc on p. Whatever is malformed is left out; courses checks the
// rest (URLs, types, lengths) when the post is saved.
func setRich(p *courses.Post, doc []byte) {
	var d richDoc
	if json.Unmarshal(doc, &d) != nil {
		return
	}
	p.Summary = text(d.Summary)
	if p.Summary == "" {
		for _, s := range d.SummaryMap {
			p.Summary = s
			break
		}
	}
	json.Unmarshal(d.Sensitive, &p.Sensitive)
	for _, it := range items(d.Tag) {
		p.Tags = append(p.Tags, courses.PostTag{Type: text(it.Type), Name: text(it.Name), Href: href(it.Href, it.URL)})
	}
	for _, it := range items(d.Attachment) {
		a := courses.PostAttachment{Type: text(it.Type), MediaType: text(it.MediaType), Name: text(it.Name)}
		if a.Type == "Link" {
			a.URL = href(it.Href, it.URL)
		} else {
			a.URL = href(it.URL, it.Href)
		}
		p.Attachments = append(p.Attachments, a)
	}
}

// items reads one object or a list of objects; anything else is skipped.
func items(v json.RawMessage) []richItem {
	if len(v) == 0 {
		return nil
	}
	var list []json.RawMessage
	if v[0] != '[' {
		list = []json.RawMessage{v}
	} else if json.Unmarshal(v, &list) != nil {
		return nil
	}
	var out []richItem
	for _, x := range list {
		var it richItem
		if len(x) > 0 && x[0] == '{' && json.Unmarshal(x, &it) == nil {
			out = append(out, it)
		}
	}
	return out
}

// text reads a JSON string, or the first of a list of strings.
func text(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(v, &list) == nil && len(list) > 0 {
		return list[0]
	}
	return ""
}

// href reads a link given as a string, an object with href, or a list of
// either (the first link that has one), trying each of vs in turn.
func href(vs ...json.RawMessage) string {
	for _, v := range vs {
		if s := text(v); s != "" {
			return s
		}
		for _, it := range items(v) {
			if s := text(it.Href); s != "" {
				return s
			}
		}
	}
	return ""
}
