package federation

import (
	"errors"
	"fmt"

	"github.com/go-json-experiment/json"
)

// JRD is a WebFinger response (RFC 7033).
type JRD struct {
	Subject string   `json:"subject"`
	Aliases []string `json:"aliases,omitempty"`
	Links   []Link   `json:"links"`
}

// Link is one link of a JRD.
type Link struct {
	Rel      string `json:"rel"`
	Type     string `json:"type,omitempty"`
	Href     string `json:"href,omitempty"`
	Template string `json:"template,omitempty"`
}

// ParseJRD decodes a WebFinger response; it must be one JSON object, without
// duplicate keys, with a subject. Names match exactly: encoding/json would
// take "SUBJECT" or "Links" for the known names and let them override, so
// the decoder is go-json-experiment's, which is case-sensitive.
func ParseJRD(data []byte) (JRD, error) {
	if err := CheckJSON(data); err != nil {
		return JRD{}, fmt.Errorf("parse webfinger response: %w", err)
	}
	var j JRD
	if err := json.Unmarshal(data, &j); err != nil {
		return JRD{}, fmt.Errorf("parse webfinger response: %w", err)
	}
	if j.Subject == "" {
		return JRD{}, errors.New("webfinger response has no subject")
	}
	return j, nil
}

// ActorLink returns the href of the "self" link with an ActivityStreams
// media type.
func (j JRD) ActorLink() (string, error) {
	for _, l := range j.Links {
		if l.Rel != "self" {
			continue
		}
		switch l.Type {
		case "application/activity+json", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`:
			if Origin(l.Href) == "" {
				return "", fmt.Errorf("webfinger self link %q is not an http(s) URL", l.Href)
			}
			return l.Href, nil
		}
	}
	return "", errors.New("webfinger response has no ActivityPub self link")
}
