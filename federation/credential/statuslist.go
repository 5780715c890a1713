package credential

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// StatusListBits is the length of a status list: the specification's
// minimum of 131,072 entries (16 KB), which also hides which entry changed.
const StatusListBits = 131072

// maxStatusListBytes bounds a decoded list, so a compressed bomb cannot
// exhaust memory (8 times the minimum).
const maxStatusListBytes = 8 * StatusListBits / 8

// StatusPurposeRevocation is the purpose of colearn's status lists.
const StatusPurposeRevocation = "revocation"

// StatusList is a W3C Bitstring Status List: bit i set means the credential
// with statusListIndex i is revoked. Bit 0 is the left-most bit of the
// first byte.
type StatusList struct {
	bits []byte
}

// NewStatusList returns an all-clear list of StatusListBits entries.
func NewStatusList() *StatusList { return &StatusList{bits: make([]byte, StatusListBits/8)} }

// Len is the number of entries.
func (l *StatusList) Len() int { return len(l.bits) * 8 }

// Set sets entry i; an index outside the list is an error.
func (l *StatusList) Set(i int) error {
	if i < 0 || i >= l.Len() {
		return fmt.Errorf("status index %d outside a list of %d", i, l.Len())
	}
	l.bits[i/8] |= 0x80 >> (i % 8)
	return nil
}

// Get reports entry i; an index outside the list is an error.
func (l *StatusList) Get(i int) (bool, error) {
	if i < 0 || i >= l.Len() {
		return false, fmt.Errorf("status index %d outside a list of %d", i, l.Len())
	}
	return l.bits[i/8]&(0x80>>(i%8)) != 0, nil
}

// Encode returns encodedList: multibase base64url (no padding, prefix "u")
// of the GZIP-compressed bitstring.
func (l *StatusList) Encode() string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(l.bits)
	zw.Close()
	return "u" + base64.RawURLEncoding.EncodeToString(b.Bytes())
}

// DecodeStatusList parses encodedList. It refuses another multibase, bad
// GZIP, and lists shorter than the minimum or longer than eight times it.
func DecodeStatusList(s string) (*StatusList, error) {
	if len(s) < 2 || s[0] != 'u' {
		return nil, errors.New("encodedList is not multibase base64url")
	}
	raw, err := base64.RawURLEncoding.DecodeString(s[1:])
	if err != nil {
		return nil, fmt.Errorf("encodedList: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("encodedList: %w", err)
	}
	bits, err := io.ReadAll(io.LimitReader(zr, maxStatusListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("encodedList: %w", err)
	}
	if len(bits) > maxStatusListBytes || len(bits) < StatusListBits/8 {
		return nil, fmt.Errorf("encodedList holds %d bytes; a list holds %d to %d", len(bits), StatusListBits/8, maxStatusListBytes)
	}
	return &StatusList{bits: bits}, nil
}

// StatusEntry is the credentialStatus of the credential at index of the
// revocation list listURL.
func StatusEntry(listURL string, index int) map[string]any {
	return map[string]any{
		"id":                   listURL + "#" + strconv.Itoa(index),
		"type":                 "BitstringStatusListEntry",
		"statusPurpose":        StatusPurposeRevocation,
		"statusListIndex":      strconv.Itoa(index),
		"statusListCredential": listURL,
	}
}

// StatusListCredential is the unsigned BitstringStatusListCredential
// publishing l at listURL for issuer.
func StatusListCredential(listURL string, issuer Profile, validFrom time.Time, l *StatusList) map[string]any {
	return map[string]any{
		"@context":  []any{ContextVC},
		"id":        listURL,
		"type":      []any{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":    issuer.ID,
		"validFrom": validFrom.UTC().Format(time.RFC3339),
		"credentialSubject": map[string]any{
			"id":            listURL + "#list",
			"type":          "BitstringStatusList",
			"statusPurpose": StatusPurposeRevocation,
			"encodedList":   l.Encode(),
		},
	}
}
