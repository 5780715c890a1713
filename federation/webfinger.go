package federation

import (
	"encoding/json"
	"errors"
	"fmt"
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

// ParseJRD decodes a WebFinger response; it must be a JSON object with a
// subject.
func ParseJRD(data []byte) (JRD, error) {
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
