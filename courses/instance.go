package courses

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Identity is how the instance presents itself: the name shown in page
// headers, link previews (og:site_name) and NodeInfo instead of the bare
// host, a short description, a contact (an e-mail address or a URL) and
// the rules its members agree to (Markdown). Every field may be empty.
type Identity struct {
	Name        string
	Description string
	Contact     string
	Rules       string // Markdown
}

// Limits on the identity's fields, in characters.
const (
	MaxInstanceNameLen        = 80
	MaxInstanceDescriptionLen = 500
	MaxInstanceContactLen     = 200
	MaxInstanceRulesLen       = 20000
)

// identityKeys are the instance_settings keys of the identity's fields.
var identityKeys = [...]string{"instance_name", "instance_description", "instance_contact", "instance_rules"}

func (id *Identity) fields() [4]*string {
	return [4]*string{&id.Name, &id.Description, &id.Contact, &id.Rules}
}

// SiteName is the instance's name, or host when it has none.
func (id Identity) SiteName(host string) string {
	if id.Name != "" {
		return id.Name
	}
	return host
}

// SummaryOr is the description, or def when there is none.
func (id Identity) SummaryOr(def string) string {
	if id.Description != "" {
		return id.Description
	}
	return def
}

// Validate trims id's fields and checks their lengths and the contact's
// form (an e-mail address or an http(s) URL). It returns a
// *ValidationError naming the first field that is wrong.
func (id *Identity) Validate() error {
	id.Name = strings.Join(strings.Fields(id.Name), " ")
	id.Description = strings.TrimSpace(id.Description)
	id.Contact = strings.TrimSpace(id.Contact)
	id.Rules = strings.TrimSpace(id.Rules)
	switch {
	case utf8.RuneCountInString(id.Name) > MaxInstanceNameLen:
		return &ValidationError{"name", fmt.Sprintf("the name is longer than %d characters", MaxInstanceNameLen)}
	case utf8.RuneCountInString(id.Description) > MaxInstanceDescriptionLen:
		return &ValidationError{"description", fmt.Sprintf("the description is longer than %d characters", MaxInstanceDescriptionLen)}
	case utf8.RuneCountInString(id.Contact) > MaxInstanceContactLen:
		return &ValidationError{"contact", fmt.Sprintf("the contact is longer than %d characters", MaxInstanceContactLen)}
	case utf8.RuneCountInString(id.Rules) > MaxInstanceRulesLen:
		return &ValidationError{"rules", fmt.Sprintf("the rules are longer than %d characters", MaxInstanceRulesLen)}
	case id.Contact != "" && !validContact(id.Contact):
		return &ValidationError{"contact", "give an e-mail address or an https:// URL"}
	}
	for _, f := range id.fields() {
		if !utf8.ValidString(*f) || strings.ContainsRune(*f, 0) {
			return &ValidationError{"identity", "the text is not valid UTF-8"}
		}
	}
	return nil
}

func validContact(s string) bool {
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		return !strings.ContainsAny(s, " \t\n<>\"")
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// Identity returns the instance's identity (empty fields when never set).
func (s *Store) Identity(ctx context.Context) (Identity, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, value FROM instance_settings WHERE key = ANY($1)`, identityKeys[:])
	if err != nil {
		return Identity{}, fmt.Errorf("read instance identity: %w", err)
	}
	var id Identity
	f := id.fields()
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return Identity{}, fmt.Errorf("read instance identity: %w", err)
		}
		for i, key := range identityKeys {
			if k == key {
				*f[i] = v
			}
		}
	}
	return id, rows.Err()
}

// SetIdentity validates id and stores it whole, announcing the change so
// that every cached page header, NodeInfo answer and link preview shows it
// on the next request. It returns a *ValidationError for bad input, and
// then changes nothing.
func (s *Store) SetIdentity(ctx context.Context, id Identity) (Identity, error) {
	if err := id.Validate(); err != nil {
		return Identity{}, fmt.Errorf("set instance identity: %w", err)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for i, f := range id.fields() {
			if _, err := tx.Exec(ctx, `INSERT INTO instance_settings (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, identityKeys[i], *f); err != nil {
				return err
			}
		}
		return s.Changed(ctx, tx, SiteScope)
	})
	if err != nil {
		return Identity{}, fmt.Errorf("set instance identity: %w", err)
	}
	return id, nil
}
