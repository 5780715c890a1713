package main

// Posts that render well elsewhere, end to end against a scriptable peer
// with real keys: what a peer's rich post becomes here (stored, shown,
// escaped), what a local post with mentions, hashtags and a content
// warning becomes there (delivered, signed, tagged), and the documents
// other servers fetch to show threads, lessons and people.

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/peertest"
	"github.com/colearn/colearn/outbox"
)

func TestRichPosts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a)
	a.createUser(t, "olga")
	a.createUser(t, "lena")
	olga, lena := a.user(t, "olga"), a.user(t, "lena")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "rich", Title: "Rich posts"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	if _, err := a.actions.Enroll(ctx, lena, course); err != nil {
		t.Fatal(err)
	}

	peer := peertest.Start(t)
	peer.CheckGoToSocialSignatures()
	pia := peer.NewActor("pia")
	peer.Serve("/.well-known/webfinger", map[string]any{
		"subject": "acct:pia@" + peer.Host,
		"links":   []any{map[string]any{"rel": "self", "type": "application/activity+json", "href": pia.IRI}},
	})
	follow := pia.Activity("Follow", map[string]any{"object": courseIRI, "to": []string{courseIRI}})
	if status, body := pia.Post(ctx, courseIRI+"/inbox", peer.JSON(follow), peertest.SignOptions{}); status != http.StatusAccepted {
		t.Fatalf("Follow: %d %s", status, body)
	}
	waitForDelivery(t, peer, "/users/pia/inbox", "Accept")

	t.Run("IncomingRichPostIsKeptAndShown", func(t *testing.T) {
		noteID := pia.IRI + "/statuses/rich1"
		note := map[string]any{
			"id": noteID, "type": "Note", "attributedTo": pia.IRI,
			"content": `<p>Hi <span class="h-card"><a href="` + a.urls.User("lena") + `" class="u-url mention">@<span>lena</span></a></span> ` +
				`<a href="` + peer.URL + `/tags/go" class="mention hashtag" rel="tag">#<span>go</span></a></p><script>alert(1)</script>`,
			"summary":   `Spoilers <b>for</b> "week 2" <img src=x onerror=alert(1)>`,
			"sensitive": true,
			"tag": []any{
				map[string]any{"type": "Mention", "href": a.urls.User("lena"), "name": "@lena@" + a.addr},
				map[string]any{"type": "Hashtag", "href": peer.URL + "/tags/go", "name": "#go"},
				map[string]any{"type": "Mention", "href": "javascript:alert(1)", "name": "@evil"},
			},
			"attachment": []any{
				map[string]any{"type": "Document", "mediaType": "image/png", "url": "https://images.example/cat.png",
					"name": `A cat "><script>alert(1)</script>`},
				map[string]any{"type": "Image", "mediaType": "image/png", "url": "javascript:alert(2)", "name": "bad"},
				map[string]any{"type": "Link", "href": "https://example.org/read", "name": "Reading <i>list</i>"},
			},
			"published": time.Now().UTC().Format(time.RFC3339),
			"to":        []string{"https://www.w3.org/ns/activitystreams#Public", courseIRI},
			"cc":        []string{pia.IRI + "/followers"},
		}
		doc := map[string]any{"@context": "https://www.w3.org/ns/activitystreams"}
		for k, v := range note {
			doc[k] = v
		}
		peer.Serve(peer.Path(noteID), doc)
		create := pia.Activity("Create", map[string]any{"id": noteID + "/activity", "object": note, "to": note["to"], "cc": note["cc"]})
		if status, body := pia.Post(ctx, courseIRI+"/inbox", peer.JSON(create), peertest.SignOptions{}); status != http.StatusAccepted {
			t.Fatalf("Create: %d %s", status, body)
		}
		var p courses.Post
		eventually(t, "pia's post stored", 15*time.Second, func() (bool, error) {
			var err error
			p, err = a.post(ctx, noteID)
			return err == nil, nil
		})
		if p.Summary != `Spoilers for "week 2"` || !p.Sensitive {
			t.Errorf("content warning %q sensitive %v, want the plain text and true", p.Summary, p.Sensitive)
		}
		wantTags := []courses.PostTag{
			{Type: "Mention", Name: "@lena@" + a.addr, Href: a.urls.User("lena")},
			{Type: "Hashtag", Name: "#go", Href: peer.URL + "/tags/go"},
		}
		if !slices.Equal(p.Tags, wantTags) {
			t.Errorf("tags %+v, want %+v (the javascript: mention dropped)", p.Tags, wantTags)
		}
		wantAtts := []courses.PostAttachment{
			{Type: "Document", MediaType: "image/png", URL: "https://images.example/cat.png", Name: `A cat ">`},
			{Type: "Link", URL: "https://example.org/read", Name: "Reading list"},
		}
		if !slices.Equal(p.Attachments, wantAtts) {
			t.Errorf("attachments %+v, want %+v (the javascript: image dropped)", p.Attachments, wantAtts)
		}

		status, page := a.get(t, "/courses/"+course.Slug, "text/html")
		if status != http.StatusOK {
			t.Fatalf("course page: %d", status)
		}
		html := string(page)
		i := strings.Index(html, `id="post-`+strconv.FormatInt(p.Seq, 10)+`"`)
		if i < 0 {
			t.Fatalf("pia's post is not on the course page:\n%s", html)
		}
		article := html[i:]
		article = article[:strings.Index(article, "</article>")]
		for _, want := range []string{
			`<details class="content-warning">`,
			`<summary>Spoilers for &#34;week 2&#34;</summary>`,
			`<img src="https://images.example/cat.png" alt="A cat &#34;&gt;" loading="lazy" referrerpolicy="no-referrer">`,
			`<a href="https://example.org/read" rel="nofollow noopener noreferrer" class="attachment-link">Reading list</a>`,
			`<a class="mention" href="` + a.urls.User("lena") + `"`,
			`<a class="hashtag" href="/tags/go" rel="tag">#go</a>`,
			`class="u-url mention"`,
		} {
			if !strings.Contains(article, want) {
				t.Errorf("the post on the page lacks %s:\n%s", want, article)
			}
		}
		if d, c := strings.Index(article, "<details"), strings.Index(article, `<div class="content">`); d < 0 || c < d || strings.Contains(article, "<details open") {
			t.Errorf("the content is not behind the closed content warning:\n%s", article)
		}
		for _, bad := range []string{"javascript:", "<script", "onerror"} {
			if strings.Contains(article, bad) {
				t.Errorf("the post on the page contains %q:\n%s", bad, article)
			}
		}
	})

	var lenaPost courses.Post
	t.Run("LocalPostMentionsReachThePeer", func(t *testing.T) {
		text := "Hello @pia@" + peer.Host + " and @olga, and @ghost@127.0.0.1:1 who is not there. Read about #Golang. `@pia@" + peer.Host + "` is code."
		var err error
		lenaPost, err = a.actions.PostWith(ctx, lena, courseIRI, text, "", outbox.PostOptions{Summary: "exam <b>talk</b>"})
		if err != nil {
			t.Fatal(err)
		}
		var create map[string]any
		eventually(t, "lena's Create at the peer", 15*time.Second, func() (bool, error) {
			for _, r := range peer.Received("/inbox") {
				var act map[string]any
				if json.Unmarshal(r.Body, &act) == nil && act["type"] == "Create" && idOf(act["object"]) == lenaPost.IRI {
					if r.SignatureError != "" {
						t.Fatalf("the Create's signature: %s", r.SignatureError)
					}
					create = act
					return true, nil
				}
			}
			return false, nil
		})
		if create["actor"] != a.urls.User("lena") {
			t.Errorf("Create by %v, want lena", create["actor"])
		}
		obj := create["object"].(map[string]any)
		if !slices.Contains(strs(create["cc"]), pia.IRI) || !slices.Contains(strs(obj["cc"]), pia.IRI) {
			t.Errorf("pia is not in cc: activity %v, object %v", create["cc"], obj["cc"])
		}
		checkLocalRichNote(t, obj, a, pia.IRI, peer.Host)

		// The post's own document says the same.
		status, body := get(t, lenaPost.IRI)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", lenaPost.IRI, status)
		}
		var served map[string]any
		if err := json.Unmarshal(body, &served); err != nil {
			t.Fatal(err)
		}
		checkLocalRichNote(t, served, a, pia.IRI, peer.Host)
		// Its page, collapsed behind the warning.
		status, page := a.get(t, strings.TrimPrefix(lenaPost.IRI, a.urls.Base()), "text/html")
		if status != http.StatusOK || !strings.Contains(string(page), `<details class="content-warning">`) ||
			!strings.Contains(string(page), `<summary>exam talk</summary>`) {
			t.Errorf("the post's page: %d\n%s", status, page)
		}

		// The course boosts it, dated.
		eventually(t, "the Announce of lena's post", 15*time.Second, func() (bool, error) {
			for _, r := range peer.Received("/inbox") {
				var act map[string]any
				if json.Unmarshal(r.Body, &act) == nil && act["type"] == "Announce" && act["object"] == lenaPost.IRI {
					published, err := time.Parse(time.RFC3339, str(act["published"]))
					if err != nil || time.Since(published) > time.Hour || time.Until(published) > time.Minute {
						t.Errorf("the Announce's published is %v (%v)", act["published"], err)
					}
					return true, nil
				}
			}
			return false, nil
		})
	})

	t.Run("CourseAnnouncementMentions", func(t *testing.T) {
		ann, err := a.actions.Announce(ctx, olga, course, "Office hours with @pia@"+peer.Host+" on #Friday")
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the course's Create of the announcement", 15*time.Second, func() (bool, error) {
			for _, r := range peer.Received("/inbox") {
				var act map[string]any
				if json.Unmarshal(r.Body, &act) != nil || act["type"] != "Create" || idOf(act["object"]) != ann.IRI {
					continue
				}
				obj := act["object"].(map[string]any)
				raw, _ := json.Marshal(obj["tag"])
				if act["actor"] != courseIRI || !slices.Contains(strs(obj["cc"]), pia.IRI) || !slices.Contains(strs(act["cc"]), pia.IRI) ||
					!strings.Contains(string(raw), `"href":"`+pia.IRI+`"`) || !strings.Contains(string(raw), `"name":"#friday"`) {
					t.Errorf("the announcement's Create: %v", act)
				}
				return true, nil
			}
			return false, nil
		})
	})

	t.Run("RepliesCollectionListsAReply", func(t *testing.T) {
		if lenaPost.IRI == "" {
			t.Skip("needs lena's post")
		}
		// Fetched (and cached) before the reply, then changed by it.
		if status, body := get(t, lenaPost.IRI+"/replies"); status != http.StatusOK || !strings.Contains(string(body), `"totalItems":0`) {
			t.Fatalf("replies before the reply: %d %s", status, body)
		}
		reply, err := a.actions.Post(ctx, olga, courseIRI, "Welcome!", lenaPost.IRI)
		if err != nil {
			t.Fatal(err)
		}
		var coll map[string]any
		eventually(t, "the reply in the replies collection", 15*time.Second, func() (bool, error) {
			status, body := get(t, lenaPost.IRI+"/replies")
			if status != http.StatusOK {
				return false, nil
			}
			coll = nil
			if err := json.Unmarshal(body, &coll); err != nil {
				return false, err
			}
			return slices.Contains(strs(coll["orderedItems"]), reply.IRI), nil
		})
		if coll["id"] != lenaPost.IRI+"/replies" || coll["type"] != "OrderedCollection" || coll["totalItems"] != 1.0 {
			t.Errorf("replies collection %v", coll)
		}
		// The reply's own context is the course too, its replies empty.
		status, body := get(t, reply.IRI+"/replies")
		if status != http.StatusOK || !strings.Contains(string(body), `"totalItems":0`) {
			t.Errorf("the reply's replies: %d %s", status, body)
		}
		if status, _ := get(t, a.urls.Post("nope")+"/replies"); status != http.StatusNotFound {
			t.Errorf("replies of an unknown post: %d, want 404", status)
		}
	})

	t.Run("LessonHasSummaryAndAttachments", func(t *testing.T) {
		body := "# Types\n\nA **type** says what a value is " + strings.Repeat("and what it can do ", 40) + "."
		m, err := a.actions.AddModule(ctx, olga, course, courses.ModuleDraft{Title: "Types", Body: body,
			Links:       []courses.Link{{URL: "https://go.dev/tour", Title: "The tour"}},
			Attachments: []courses.Attachment{{URL: "https://example.org/types.pdf", Name: "Slides", MediaType: "application/pdf"}}})
		if err != nil {
			t.Fatal(err)
		}
		status, doc := get(t, a.urls.Module(course.Slug, m.ID))
		if status != http.StatusOK {
			t.Fatalf("GET module: %d", status)
		}
		var art struct {
			Summary    string           `json:"summary"`
			Attachment []map[string]any `json:"attachment"`
		}
		if err := json.Unmarshal(doc, &art); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(art.Summary, "Types A type says what a value is") || strings.ContainsAny(art.Summary, "<>*#") ||
			len([]rune(art.Summary)) > 301 {
			t.Errorf("lesson summary %q, want the start of the body as plain text", art.Summary)
		}
		if len(art.Attachment) != 2 || art.Attachment[0]["type"] != "Link" || art.Attachment[0]["href"] != "https://go.dev/tour" ||
			art.Attachment[1]["type"] != "Document" || art.Attachment[1]["url"] != "https://example.org/types.pdf" ||
			art.Attachment[1]["mediaType"] != "application/pdf" {
			t.Errorf("lesson attachments %v", art.Attachment)
		}
	})

	t.Run("UserActorHasPublishedAndIndexable", func(t *testing.T) {
		actor := func() map[string]any {
			status, body := get(t, a.urls.User("lena"))
			if status != http.StatusOK {
				t.Fatalf("GET lena: %d", status)
			}
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			return doc
		}
		doc := actor()
		published, err := time.Parse(time.RFC3339, str(doc["published"]))
		if err != nil || !published.Equal(lena.CreatedAt.UTC().Truncate(time.Second)) {
			t.Errorf("published %v, want %v", doc["published"], lena.CreatedAt)
		}
		if doc["indexable"] != false {
			t.Errorf("indexable %v before the opt-in, want false", doc["indexable"])
		}
		if _, err := a.courses.SetIndexable(ctx, lena.ID, true); err != nil {
			t.Fatal(err)
		}
		eventually(t, "indexable after the opt-in", 15*time.Second, func() (bool, error) { return actor()["indexable"] == true, nil })
	})
}

// checkLocalRichNote checks lena's Note as another server sees it.
func checkLocalRichNote(t *testing.T, obj map[string]any, a *testInstance, piaIRI, peerHost string) {
	t.Helper()
	if obj["summary"] != "exam talk" || obj["sensitive"] != true {
		t.Errorf("content warning %v sensitive %v, want \"exam talk\" and true", obj["summary"], obj["sensitive"])
	}
	if obj["context"] != a.urls.Course("rich") || obj["replies"] != str(obj["id"])+"/replies" {
		t.Errorf("context %v replies %v", obj["context"], obj["replies"])
	}
	var tags []map[string]any
	raw, _ := json.Marshal(obj["tag"])
	json.Unmarshal(raw, &tags)
	want := map[string]string{
		"Mention @pia@" + peerHost: piaIRI,
		"Mention @olga@" + a.addr:  a.urls.User("olga"),
		"Hashtag #golang":          a.urls.Base() + "/tags/golang",
	}
	got := map[string]string{}
	for _, tag := range tags {
		got[str(tag["type"])+" "+str(tag["name"])] = str(tag["href"])
	}
	if len(got) != len(want) {
		t.Errorf("tags %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("tag %s has href %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	content := str(obj["content"])
	for _, want := range []string{
		`<span class="h-card"><a href="` + piaIRI + `" class="u-url mention"`, `>@<span>pia</span></a></span>`,
		`<a href="` + a.urls.User("olga") + `" class="u-url mention"`,
		`<a href="` + a.urls.Base() + `/tags/golang" class="mention hashtag"`, `#<span>Golang</span></a>`,
		"@ghost@127.0.0.1:1 who", "<code>@pia@" + peerHost + "</code>",
	} {
		if !strings.Contains(content, want) {
			t.Errorf("content lacks %s: %s", want, content)
		}
	}
}

// strs reads a JSON list of strings (or one string).
func strs(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, str(x))
	}
	return out
}

// A post written on B in a course that lives on A: its author's Create
// reaches both the course (which keeps the content warning and tags) and
// the peer it mentions.
func TestRichPostToRemoteCourse(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	b := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a, b)
	a.createUser(t, "olga")
	b.createUser(t, "bob")
	course, err := a.actions.CreateCourse(ctx, a.user(t, "olga"), courses.CourseDraft{Slug: "remote-rich", Title: "Remote rich"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	bob := b.user(t, "bob")
	if _, err := b.actions.JoinRemote(ctx, bob, "@remote-rich@"+a.addr); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob enrolled", 15*time.Second, func() (bool, error) {
		return b.enrollmentState(ctx, "bob", courseIRI) == courses.StateAccepted, nil
	})
	peer := peertest.Start(t)
	peer.CheckGoToSocialSignatures()
	pia := peer.NewActor("pia")
	peer.Serve("/.well-known/webfinger", map[string]any{
		"subject": "acct:pia@" + peer.Host,
		"links":   []any{map[string]any{"rel": "self", "type": "application/activity+json", "href": pia.IRI}},
	})

	p, err := b.actions.PostWith(ctx, bob, courseIRI, "Thanks @pia@"+peer.Host+" for #Fediverse tips", "", outbox.PostOptions{Summary: "long read"})
	if err != nil {
		t.Fatal(err)
	}
	create := waitForDelivery(t, peer, "/inbox", "Create")
	if idOf(create["object"]) != p.IRI || create["actor"] != b.urls.User("bob") || !slices.Contains(strs(create["cc"]), pia.IRI) {
		t.Errorf("the peer got %v", create)
	}
	var onA courses.Post
	eventually(t, "bob's post on the course's instance", 15*time.Second, func() (bool, error) {
		var err error
		onA, err = a.post(ctx, p.IRI)
		return err == nil, nil
	})
	want := []courses.PostTag{
		{Type: "Mention", Name: "@pia@" + peer.Host, Href: pia.IRI},
		{Type: "Hashtag", Name: "#fediverse", Href: b.urls.Base() + "/tags/fediverse"},
	}
	if onA.Summary != "long read" || !onA.Sensitive || !slices.Equal(onA.Tags, want) {
		t.Errorf("on A: summary %q sensitive %v tags %+v, want %+v", onA.Summary, onA.Sensitive, onA.Tags, want)
	}
}
