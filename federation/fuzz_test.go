package federation_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/colearn/colearn/federation"
)

func FuzzParseSignatureHeader(f *testing.F) {
	for _, s := range []string{
		`keyId="https://a.example/users/u#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="c2lnbmF0dXJl"`,
		`keyId="k",algorithm="hs2019",signature="s"`,
		`keyId="k",keyId="k",signature="s"`,
		`keyId=k,signature="s"`,
		`keyId="k", headers="date",signature="s"`,
		`Headers="",keyId="k",signature="s"`,
		`sig1=:c2ln:`,
		`keyId="`,
		`=`,
		`,`,
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := federation.ParseSignatureHeader(s)
		if err != nil {
			return
		}
		if p.KeyID == "" || p.Signature == "" {
			t.Fatalf("accepted %q without keyId or signature: %+v", s, p)
		}
		if p.Algorithm != strings.ToLower(p.Algorithm) {
			t.Fatalf("algorithm %q not lower-cased", p.Algorithm)
		}
		for _, h := range p.Headers {
			if h == "" || h != strings.ToLower(h) || strings.ContainsAny(h, " \t") {
				t.Fatalf("bad header name %q in %+v", h, p)
			}
		}
		// The canonical form parses back to the same parameters.
		c := `keyId="` + p.KeyID + `",algorithm="` + p.Algorithm + `",headers="` + strings.Join(p.Headers, " ") + `",signature="` + p.Signature + `"`
		q, err := federation.ParseSignatureHeader(c)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", c, s, err)
		}
		if len(p.Headers) == 0 {
			p.Headers = nil
		}
		if len(q.Headers) == 0 {
			q.Headers = nil
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip of %q: %+v != %+v", s, p, q)
		}
	})
}

func FuzzParseJRD(f *testing.F) {
	for _, s := range []string{
		`{"subject":"acct:alice@a.example","aliases":["https://a.example/@alice"],"links":[{"rel":"self","type":"application/activity+json","href":"https://a.example/users/alice"}]}`,
		`{"subject":"acct:alice@a.example:8443","links":[{"rel":"self","type":"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"","href":"http://a.example:8443/users/alice"}]}`,
		`{"subject":"acct:a@b","links":[{"rel":"self","type":"application/activity+json","href":"javascript:alert(1)"}]}`,
		`{"subject":"acct:a@b","links":[{"rel":"http://ostatus.org/schema/1.0/subscribe","template":"https://b/authorize_interaction?uri={uri}"}]}`,
		`{"subject":"","links":[]}`,
		`{"subject":"acct:a@b","subject":"acct:evil@b","links":[]}`,
		`{"subject":"acct:a@b","links":[{"rel":"self","type":"application/activity+json","href":"https://b/u/a","href":"https://evil.example/u"}]}`,
		`{"subject":"acct:a@b","SUBJECT":"acct:evil@b","links":[]}`,
		`{"subject":1}`,
		`[]`,
		`null`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := federation.ParseJRD(data)
		if err != nil {
			return
		}
		if j.Subject == "" {
			t.Fatalf("accepted %q without subject", data)
		}
		href, err := j.ActorLink()
		if err != nil {
			return
		}
		if o := federation.Origin(href); o == "" || !strings.HasPrefix(o, "http") {
			t.Fatalf("actor link %q has no http(s) origin", href)
		}
	})
}

func FuzzParseActor(f *testing.F) {
	const from = "https://remote.example/users/alice"
	kp, err := federation.GenerateKeyPair()
	if err != nil {
		f.Fatal(err)
	}
	pemJSON, _ := json.Marshal(kp.PublicKeyPEM())
	good := `{"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1"],"id":"https://remote.example/users/alice","type":"Person","preferredUsername":"alice","inbox":"https://remote.example/users/alice/inbox","endpoints":{"sharedInbox":"https://remote.example/inbox"},"publicKey":{"id":"https://remote.example/users/alice#main-key","owner":"https://remote.example/users/alice","publicKeyPem":` + string(pemJSON) + `}}`
	local := federation.URLs{Scheme: "https", Host: "remote.example"}
	doc, err := local.ActorDocument(federation.LocalActor{Owner: "alice", Type: "Person", Name: "Alice", Keys: kp})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		good,
		string(doc),
		strings.Replace(good, `"id":"https://remote.example/users/alice"`, `"id":"https://evil.example/users/alice"`, 1),
		strings.Replace(good, `"owner":"https://remote.example/users/alice"`, `"owner":"https://remote.example/users/bob"`, 1),
		strings.Replace(good, `"type":"Person"`, `"type":"Note"`, 1),
		strings.Replace(good, `"type":"Person"`, `"type":["Person","Wibble"]`, 1),
		strings.Replace(good, `"sharedInbox":"https://remote.example/inbox"`, `"sharedInbox":"https://evil.example/inbox"`, 1),
		strings.Replace(good, `"inbox":"https://remote.example/users/alice/inbox"`, `"inbox":{"id":"https://remote.example/users/alice/inbox"}`, 1),
		`{"id":"https://remote.example/users/alice","type":"Service","inbox":"https://remote.example/i","publicKey":[{"id":"https://remote.example/k","publicKeyPem":"x"}]}`,
		strings.Replace(good, `"type":"Person"`, `"type":"Person","id":"https://evil.example/users/alice"`, 1),
		strings.Replace(good, `"preferredUsername":"alice"`, `"preferredUsername":"alice","preferredUsername":"bob@evil.example"`, 1),
		strings.Replace(good, `"publicKey":{`, `"publicKey":{"id":"https://remote.example/users/alice#k2",`, 1),
		strings.Replace(good, `"preferredUsername":"alice"`, `"preferredUsername":"al‮ice"`, 1),
		strings.TrimSuffix(strings.Replace(good, `"publicKey":{`, `"publicKey":[{"id":"https://remote.example/users/alice#k0","publicKeyPem":"x"},{`, 1), "}") + "]}",
		`{"type":"Person"}`,
		`{"type":"Wibble"}`,
		`"https://remote.example/users/alice"`,
		`[]`,
		`null`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := federation.ParseActor(data, from)
		if err != nil {
			return
		}
		if a.IRI != from {
			t.Fatalf("actor id %q accepted from %s", a.IRI, from)
		}
		if err := federation.CheckJSON(data); err != nil {
			t.Fatalf("accepted a document CheckJSON refuses: %v", err)
		}
		// encoding/json (last key wins) reads the same id and name.
		var view struct {
			ID   string `json:"id"`
			Name string `json:"preferredUsername"`
		}
		if json.Unmarshal(data, &view) == nil && (view.ID != a.IRI || view.Name != a.PreferredUsername) {
			t.Fatalf("go-ap read %q %q, encoding/json %q %q", a.IRI, a.PreferredUsername, view.ID, view.Name)
		}
		if err := federation.CheckUsername(a.PreferredUsername); err != nil {
			t.Fatalf("accepted username: %v", err)
		}
		if _, ok := a.ListsKey(a.KeyID); !ok || len(a.Keys) == 0 {
			t.Fatalf("primary key %q not among the keys %+v", a.KeyID, a.Keys)
		}
		for _, k := range a.Keys {
			if !federation.SameOrigin(k.ID, a.IRI) || k.Key == nil {
				t.Fatalf("key %q of %s accepted", k.ID, a.IRI)
			}
		}
		if !federation.SameOrigin(a.Inbox, a.IRI) || !federation.SameOrigin(a.KeyID, a.IRI) {
			t.Fatalf("inbox %q or key %q not on the actor's origin %s", a.Inbox, a.KeyID, a.IRI)
		}
		if a.SharedInbox != "" && !federation.SameOrigin(a.SharedInbox, a.IRI) {
			t.Fatalf("shared inbox %q not on the actor's origin %s", a.SharedInbox, a.IRI)
		}
		if a.Key == nil || a.PublicKeyPEM == "" || a.Type == "" {
			t.Fatalf("accepted actor without key or type: %+v", a)
		}
		if a.Host() != "remote.example" {
			t.Fatalf("host %q", a.Host())
		}
	})
}

// FuzzCheckJSON: whatever CheckJSON accepts, the parsers colearn uses agree
// on: encoding/json (last key wins) and fastjson (first key wins, as go-ap)
// read the same id.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{
		`{"id":"https://a.example/1","type":"Note"}`,
		`{"id":"https://a.example/1","id":"https://b.example/1"}`,
		`{"id":"a","\u0069d":"b"}`,
		`{"object":{"id":"a","id":"b"}}`,
		`{"tag":[{"href":"a"},{"href":"b","href":"c"}]}`,
		`{"id":"a","ID":"b"}`,
		`[{"a":1},{"a":1}]`,
		"{\"id\":\"\xff\"}",
		`{"id":"a"} {}`,
		`{`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if federation.CheckJSON(data) != nil {
			return
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("CheckJSON accepted what encoding/json refuses: %v", err)
		}
		fv, err := fastjson.ParseBytes(data)
		if err != nil {
			t.Fatalf("CheckJSON accepted what fastjson refuses: %v", err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		id, _ := m["id"].(string)
		var fid string
		if x := fv.Get("id"); x != nil && x.Type() == fastjson.TypeString {
			fid = string(x.GetStringBytes())
		}
		if id != fid {
			t.Fatalf("encoding/json reads id %q, fastjson %q", id, fid)
		}
	})
}

// FuzzIsActivityMediaType never panics and accepts only the two
// ActivityStreams media types.
func FuzzIsActivityMediaType(f *testing.F) {
	for _, s := range []string{
		"application/activity+json",
		`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`,
		`application/ld+json; profile="https://www.w3.org/ns/activitystreams http://example.com/x"`,
		"application/ld+json",
		"application/json",
		"text/html; charset=utf-8",
		"application/activity+json; charset=utf-8",
		"",
		";;;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		if !federation.IsActivityMediaType(ct) {
			return
		}
		l := strings.ToLower(ct)
		if !strings.Contains(l, "application/activity+json") && !strings.Contains(l, "application/ld+json") {
			t.Fatalf("accepted %q", ct)
		}
	})
}
