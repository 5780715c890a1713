package federation

import (
	"bytes"
	"encoding/json"
	"fmt"

	vocab "github.com/go-ap/activitypub"

	"github.com/colearn/colearn/courses"
)

// Replies is the IRI of the replies collection of a post written here.
func Replies(postIRI string) string { return postIRI + "/replies" }

// richPost adds to o what makes p render well on other servers: the
// content warning (summary, plain text, with sensitive), the Mention and
// Hashtag tags, the mentioned actors in cc (so that their servers notify
// them), the attachments, and the replies collection of a local post.
func richPost(o *vocab.Object, p courses.Post) vocab.Item {
	if p.Summary != "" {
		o.Summary = vocab.DefaultNaturalLanguageValue(p.Summary)
	}
	for _, t := range p.Tags {
		l := vocab.LinkNew("", vocab.LinkType)
		l.Type = vocab.ActivityVocabularyType(t.Type) // LinkNew knows no Hashtag
		l.Name = vocab.DefaultNaturalLanguageValue(t.Name)
		if t.Href != "" {
			l.Href = vocab.IRI(t.Href)
		}
		o.Tag = append(o.Tag, l)
		if t.Type == courses.TagMention {
			o.CC = append(o.CC, vocab.IRI(t.Href))
		}
	}
	for _, a := range p.Attachments {
		o.Attachment = appendItem(o.Attachment, attachmentItem(a))
	}
	if p.Local {
		o.Replies = vocab.IRI(Replies(p.IRI))
	}
	return extended{Object: o, extra: map[string]any{"sensitive": p.Sensitive}}
}

// attachmentItem is an attachment as ActivityStreams: a Link with href, or
// an object (Image, Document, …) with url and mediaType and its alt text
// as name.
func attachmentItem(a courses.PostAttachment) vocab.Item {
	if a.Type == "Link" {
		l := vocab.LinkNew("", vocab.LinkType)
		l.Href = vocab.IRI(a.URL)
		if a.Name != "" {
			l.Name = vocab.DefaultNaturalLanguageValue(a.Name)
		}
		if a.MediaType != "" {
			l.MediaType = vocab.MimeType(a.MediaType)
		}
		return l
	}
	doc := vocab.ObjectNew(vocab.ActivityVocabularyType(a.Type))
	doc.URL = vocab.IRI(a.URL)
	if a.Name != "" {
		doc.Name = vocab.DefaultNaturalLanguageValue(a.Name)
	}
	if a.MediaType != "" {
		doc.MediaType = vocab.MimeType(a.MediaType)
	}
	return doc
}

// extended is an object with extension properties go-ap does not know
// (sensitive): they are written beside its own, embedded in an activity or
// not.
type extended struct {
	*vocab.Object
	extra map[string]any
}

// MarshalJSON writes the object's properties and then the extensions.
func (e extended) MarshalJSON() ([]byte, error) {
	body, err := e.Object.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(body, &props); err != nil {
		return nil, fmt.Errorf("encode %s: %w", e.ID, err)
	}
	for k, v := range e.extra {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s of %s: %w", k, e.ID, err)
		}
		props[k] = raw
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(props); err != nil {
		return nil, fmt.Errorf("encode %s: %w", e.ID, err)
	}
	return bytes.TrimSpace(b.Bytes()), nil
}
