package credential

import (
	"time"
)

// Profile is an Open Badges issuer profile: the course (or instance) that
// awards, named by its actor IRI.
type Profile struct {
	ID   string
	Name string
	URL  string
}

func (p Profile) document() map[string]any {
	d := map[string]any{"id": p.ID, "type": []any{"Profile"}}
	if p.Name != "" {
		d["name"] = p.Name
	}
	if p.URL != "" {
		d["url"] = p.URL
	}
	return d
}

// Alignment links an achievement to a framework or standard.
type Alignment struct {
	TargetName        string
	TargetURL         string
	TargetDescription string
	TargetFramework   string
	TargetCode        string
}

// Achievement is an Open Badges 3.0 Achievement: what a badge stands for.
// Criteria is the Markdown narrative of what earns it.
type Achievement struct {
	ID          string
	Name        string
	Description string
	Criteria    string
	Image       string
	Tags        []string
	Alignments  []Alignment
	Creator     Profile
}

// Evidence is what a learner did to earn a badge: a narrative, a link, or
// both.
type Evidence struct {
	ID        string // a URL, optional
	Name      string
	Narrative string
}

// Badge is an OpenBadgeCredential before signing.
type Badge struct {
	ID          string
	Issuer      Profile
	ValidFrom   time.Time
	ValidUntil  time.Time // zero: no expiry
	Subject     string    // the learner's actor IRI
	Achievement Achievement
	Evidence    []Evidence
	// Status is the credentialStatus entry (StatusEntry), or nil.
	Status map[string]any
}

// Contexts is the @context of colearn's Open Badges documents.
func Contexts() []any { return []any{ContextVC, ContextOB} }

func (a Achievement) body() map[string]any {
	d := map[string]any{
		"id":          a.ID,
		"type":        []any{"Achievement"},
		"name":        a.Name,
		"description": a.Description,
		"criteria":    map[string]any{"narrative": a.Criteria},
	}
	if a.Image != "" {
		d["image"] = map[string]any{"id": a.Image, "type": "Image"}
	}
	if len(a.Tags) > 0 {
		tags := make([]any, len(a.Tags))
		for i, t := range a.Tags {
			tags[i] = t
		}
		d["tag"] = tags
	}
	if a.Creator.ID != "" {
		d["creator"] = a.Creator.document()
	}
	var aligns []any
	for _, al := range a.Alignments {
		m := map[string]any{"type": []any{"Alignment"}, "targetName": al.TargetName, "targetUrl": al.TargetURL}
		for k, v := range map[string]string{"targetDescription": al.TargetDescription, "targetFramework": al.TargetFramework, "targetCode": al.TargetCode} {
			if v != "" {
				m[k] = v
			}
		}
		aligns = append(aligns, m)
	}
	if len(aligns) > 0 {
		d["alignment"] = aligns
	}
	return d
}

// Document is the Achievement on its own, as its URL serves it.
func (a Achievement) Document() map[string]any {
	d := a.body()
	d["@context"] = Contexts()
	return d
}

// Document is the unsigned OpenBadgeCredential (VC 2.0 with the OB 3.0
// context) for b.
func (b Badge) Document() map[string]any {
	d := map[string]any{
		"@context":  Contexts(),
		"id":        b.ID,
		"type":      []any{"VerifiableCredential", "OpenBadgeCredential"},
		"issuer":    b.Issuer.document(),
		"validFrom": b.ValidFrom.UTC().Format(time.RFC3339),
		"name":      b.Achievement.Name,
		"credentialSubject": map[string]any{
			"id":          b.Subject,
			"type":        []any{"AchievementSubject"},
			"achievement": b.Achievement.body(),
		},
	}
	if !b.ValidUntil.IsZero() {
		d["validUntil"] = b.ValidUntil.UTC().Format(time.RFC3339)
	}
	var ev []any
	for _, e := range b.Evidence {
		m := map[string]any{"type": []any{"Evidence"}}
		if e.ID != "" {
			m["id"] = e.ID
		}
		if e.Name != "" {
			m["name"] = e.Name
		}
		if e.Narrative != "" {
			m["narrative"] = e.Narrative
		}
		ev = append(ev, m)
	}
	if len(ev) > 0 {
		d["evidence"] = ev
	}
	if b.Status != nil {
		d["credentialStatus"] = b.Status
	}
	return d
}
