package main

// Instance moderation across real instances: reports filed on one server
// reach the reported post's server as Flag, moderators act from the queue,
// and a domain block made with `colearn domain block` keeps a server out.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/outbox"
)

func TestReportsAndDomainBlocksAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, b, c := startInstance(t, testInstanceOptions{}), startInstance(t, testInstanceOptions{}), startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a, b, c)
	a.createUser(t, "olga")
	a.createUser(t, "lena")
	a.createUser(t, "rhea")
	bobKeys := b.createUser(t, "bob")
	b.createUser(t, "badmin")
	c.createUser(t, "carol")
	for _, x := range []struct {
		in   *testInstance
		name string
	}{{a, "rhea"}, {b, "badmin"}} {
		if _, err := x.in.pool.Exec(ctx, `UPDATE users SET is_admin = true WHERE username = $1`, x.name); err != nil {
			t.Fatal(err)
		}
	}
	olga, lena, rhea, bob, badmin, carol := a.user(t, "olga"), a.user(t, "lena"), a.user(t, "rhea"), b.user(t, "bob"), b.user(t, "badmin"), c.user(t, "carol")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "civics", Title: "Civics"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	if _, err := a.actions.Enroll(ctx, lena, course); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		in   *testInstance
		user courses.User
	}{{b, bob}, {c, carol}} {
		if _, err := x.in.actions.JoinRemote(ctx, x.user, courseIRI); err != nil {
			t.Fatal(err)
		}
		eventually(t, x.user.Username+" enrolled", 15*time.Second, func() (bool, error) {
			return x.in.enrollmentState(ctx, x.user.Username, courseIRI) == courses.StateAccepted, nil
		})
	}
	spam, err := b.actions.Post(ctx, bob, courseIRI, "Buy followers at spam.example", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*testInstance{a, c} {
		eventually(t, "bob's post on "+x.addr, 15*time.Second, func() (bool, error) {
			_, err := x.post(ctx, spam.IRI)
			return err == nil, nil
		})
	}

	signer := &federation.Signer{KeyID: federation.MainKey(b.urls.User("bob")), Key: bobKeys.RSA}

	t.Run("ReportOfRemotePostSendsFlagToItsServer", func(t *testing.T) {
		rep, err := a.actions.Report(ctx, lena, outbox.ReportTarget{PostIRI: spam.IRI}, "Advertising <b>spam</b>")
		if err != nil {
			t.Fatal(err)
		}
		if rep.TargetIRI != b.urls.User("bob") || rep.CourseIRI != courseIRI || rep.Comment != "Advertising spam" || rep.ActivityID == "" {
			t.Fatalf("report %+v: want bob's post in civics, plain-text comment, sent on as a Flag", rep)
		}
		// B's queue gets the Flag from A's instance actor.
		var onB []courses.Report
		eventually(t, "the Flag in B's queue", 15*time.Second, func() (bool, error) {
			onB, err = b.actions.ReportQueue(ctx, badmin, courses.ReportOpen, 10)
			return len(onB) == 1, err
		})
		got := onB[0]
		if got.Source != courses.SourceRemote || got.ReporterIRI != a.urls.InstanceActor() || got.PostIRI != spam.IRI ||
			got.TargetIRI != b.urls.User("bob") || got.Comment != "Advertising spam" || got.ActivityID != rep.ActivityID {
			t.Errorf("report on B %+v, want the Flag %s from %s about bob's post", got, rep.ActivityID, a.urls.InstanceActor())
		}
		// The Flag is what Mastodon sends: the instance actor, the account
		// and the post as objects, the comment as content.
		var body string
		if err := a.pool.QueryRow(ctx, `SELECT body FROM outbox_activities WHERE id = $1`, rep.ActivityID).Scan(&body); err != nil {
			t.Fatal(err)
		}
		var flag map[string]any
		json.Unmarshal([]byte(body), &flag)
		objs, _ := flag["object"].([]any)
		if flag["type"] != "Flag" || flag["actor"] != a.urls.InstanceActor() || len(objs) != 2 || objs[0] != b.urls.User("bob") || objs[1] != spam.IRI {
			t.Errorf("Flag sent: %s", body)
		}
		// Only the admins and the course's moderators see the report.
		for _, x := range []struct {
			u    courses.User
			want int
		}{{olga, 1}, {rhea, 1}, {lena, 0}} {
			q, err := a.actions.ReportQueue(ctx, x.u, courses.ReportOpen, 10)
			if err != nil || len(q) != x.want {
				t.Errorf("%s's queue on A: %d reports (%v), want %d", x.u.Username, len(q), err, x.want)
			}
		}
		if _, err := a.actions.ResolveReport(ctx, lena, rep.ID, outbox.RemedyRemovePost, "I am not a moderator"); !errors.Is(err, courses.ErrForbidden) {
			t.Errorf("lena resolving: %v, want ErrForbidden", err)
		}
		if p, _ := a.post(ctx, spam.IRI); p.Deleted {
			t.Fatal("the post was removed by someone who may not")
		}

		// olga (the course's owner, not an admin) removes the post from the queue.
		done, err := a.actions.ResolveReport(ctx, olga, rep.ID, outbox.RemedyRemovePost, "advertising")
		if err != nil {
			t.Fatal(err)
		}
		if done.State != courses.ReportResolved || done.ResolvedBy != "olga" || !strings.Contains(done.Resolution, "post removed") {
			t.Errorf("resolved report %+v", done)
		}
		eventually(t, "the removal on C", 15*time.Second, func() (bool, error) {
			p, err := c.post(ctx, spam.IRI)
			return err == nil && p.Deleted, nil
		})
		log, err := a.courses.ModerationLog(ctx, a.pool, 10)
		if err != nil || len(log) < 2 || log[0].Action != courses.ModReportResolve || log[1].Action != courses.ModPostRemove ||
			log[1].Actor != "olga" || log[1].Reason != "advertising" || log[1].ReportID != rep.ID {
			t.Errorf("moderation log %+v (%v), want olga's removal for report %d and the resolution", log, err, rep.ID)
		}
	})

	t.Run("FlagReceivedFromAnotherInstance", func(t *testing.T) {
		ann, err := a.actions.Announce(ctx, olga, course, "Vote for me")
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the announcement on C", 15*time.Second, func() (bool, error) {
			_, err := c.post(ctx, ann.IRI)
			return err == nil, nil
		})
		if _, err := c.actions.Report(ctx, carol, outbox.ReportTarget{PostIRI: ann.IRI}, "electioneering"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "C's Flag in A's queue", 15*time.Second, func() (bool, error) {
			q, err := a.actions.ReportQueue(ctx, rhea, courses.ReportOpen, 10)
			for _, r := range q {
				if r.Source == courses.SourceRemote && r.ReporterIRI == c.urls.InstanceActor() && r.PostIRI == ann.IRI && r.Comment == "electioneering" {
					return true, nil
				}
			}
			return false, err
		})
	})

	t.Run("DomainBlockKeepsServerOut", func(t *testing.T) {
		cli := []string{"--database-url", a.pool.Config().ConnString(), "--host", a.addr, "--dev", "--log-level", "warn"}
		out, _, err := runCLI(t, "", append([]string{"domain", "block", b.addr, "--reason", "spam farm"}, cli...)...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "blocked "+b.addr+"; 1 membership ended") {
			t.Errorf("domain block said %q", out)
		}
		// bob left the course, and his server was told.
		if _, err := a.courses.MemberOf(ctx, a.pool, course.ID, b.urls.User("bob")); !errors.Is(err, courses.ErrNotFound) {
			t.Errorf("bob still a member of civics: %v", err)
		}
		eventually(t, "bob's enrollment rejected on B", 15*time.Second, func() (bool, error) {
			return b.enrollmentState(ctx, "bob", courseIRI) == "rejected", nil
		})

		// B's requests get 403 (once the running instance has read the
		// block, within two seconds), and nothing of them is stored.
		id := b.urls.User("bob") + "/statuses/after-block"
		activity := fmt.Appendf(nil, `{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Follow","actor":%q,"object":%q}`,
			id, b.urls.User("bob"), courseIRI)
		n := 0
		eventually(t, "403 for B", 10*time.Second, func() (bool, error) {
			n++ // a fresh id each time: a replay of a stored id is acknowledged unseen
			like := fmt.Appendf(nil, `{"@context":"https://www.w3.org/ns/activitystreams","id":"%s/likes/%d","type":"Like","actor":%q,"object":%q}`,
				b.urls.User("bob"), n, b.urls.User("bob"), courseIRI)
			err := b.client.Post(ctx, courseIRI+"/inbox", like, signer)
			var se *federation.StatusError
			return errors.As(err, &se) && se.StatusCode == http.StatusForbidden, err
		})
		var se *federation.StatusError
		if err := b.client.Post(ctx, courseIRI+"/inbox", activity, signer); !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
			t.Errorf("bob's Follow after the block: %v, want 403", err)
		}
		var stored int
		if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities WHERE activity_id = $1`, id).Scan(&stored); err != nil || stored != 0 {
			t.Errorf("%d rows of the refused activity stored (%v)", stored, err)
		}
		if _, err := a.courses.MemberOf(ctx, a.pool, course.ID, b.urls.User("bob")); !errors.Is(err, courses.ErrNotFound) {
			t.Errorf("bob back in civics after the refused Follow: %v", err)
		}

		// Nothing is fetched from B.
		if _, err := a.resolver.Actor(ctx, b.urls.User("bob"), true); !errors.Is(err, federation.ErrDomainBlocked) {
			t.Errorf("fetching bob from A: %v, want ErrDomainBlocked", err)
		}
		// Nothing is delivered to B; C still gets everything.
		ann, err := a.actions.Announce(ctx, olga, course, "After the block")
		if err != nil {
			t.Fatal(err)
		}
		// A delivery to B is only attempted if the fan-out names B's inbox;
		// make it so with a member row that came back (as a Follow racing
		// the block could): B's shared inbox would answer 202.
		if _, err := a.courses.Enroll(ctx, a.pool, course, courses.Member{ActorIRI: b.urls.User("ghost"), Inbox: b.urls.User("ghost") + "/inbox", SharedInbox: b.urls.SharedInbox(), Via: "follow"}); err != nil {
			t.Fatal(err)
		}
		ann2, err := a.actions.Announce(ctx, olga, course, "Still blocked")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []courses.Post{ann, ann2} {
			eventually(t, "the announcement on C", 15*time.Second, func() (bool, error) {
				_, err := c.post(ctx, p.IRI)
				return err == nil, nil
			})
		}
		eventually(t, "the delivery to B cancelled", 15*time.Second, func() (bool, error) {
			var state string
			err := a.pool.QueryRow(ctx, `SELECT state::text FROM river_job WHERE kind IN ('outbox_delivery', 'outbox_delivery_set') AND (args->'inboxes')::text LIKE '%' || $1 || '%'
				AND args->>'activity_id' IN (SELECT id FROM outbox_activities WHERE body LIKE '%' || $2 || '%')`, b.addr, ann2.IRI).Scan(&state)
			return state == "cancelled", err
		})
		for _, p := range []courses.Post{ann, ann2} {
			if _, err := b.post(ctx, p.IRI); !errors.Is(err, courses.ErrNotFound) {
				t.Errorf("B received %s after the block: %v", p.IRI, err)
			}
		}

		out, _, err = runCLI(t, "", append([]string{"domain", "list"}, cli...)...)
		if err != nil || !strings.Contains(out, b.addr) || !strings.Contains(out, "spam farm") || !strings.Contains(out, "cli") {
			t.Errorf("domain list: %q, %v", out, err)
		}
		if _, _, err := runCLI(t, "", append([]string{"domain", "block", "not a host!"}, cli...)...); err == nil || !strings.Contains(err.Error(), "host") {
			t.Errorf("blocking a bad host: %v", err)
		}
		if _, _, err := runCLI(t, "", append([]string{"domain", "unblock", b.addr}, cli...)...); err != nil {
			t.Fatal(err)
		}
		out, _, _ = runCLI(t, "", append([]string{"domain", "list"}, cli...)...)
		if strings.Contains(out, b.addr) {
			t.Errorf("domain list after unblock: %q", out)
		}
		if _, _, err := runCLI(t, "", append([]string{"domain", "unblock", b.addr}, cli...)...); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("unblocking twice: %v, want not found", err)
		}
		log, err := a.courses.ModerationLog(ctx, a.pool, 10)
		if err != nil || len(log) < 2 || log[0].Action != courses.ModDomainUnblock || log[1].Action != courses.ModDomainBlock ||
			log[1].Target != b.addr || log[1].Actor != "cli" || log[1].Reason != "spam farm" {
			t.Errorf("moderation log %+v (%v), want the block and the unblock by cli", log, err)
		}
		// Unblocked: B is heard again.
		eventually(t, "B accepted again", 10*time.Second, func() (bool, error) {
			err := b.client.Post(ctx, courseIRI+"/inbox", activity, signer)
			return err == nil, err
		})
	})

	t.Run("AdminBlocksDomainFromReport", func(t *testing.T) {
		rep, err := a.actions.Report(ctx, lena, outbox.ReportTarget{AccountIRI: b.urls.User("bob")}, "the spammer")
		if err != nil {
			t.Fatal(err)
		}
		if rep.PostIRI != "" || rep.TargetIRI != b.urls.User("bob") || rep.ActivityID == "" {
			t.Fatalf("account report %+v", rep)
		}
		eventually(t, "the account Flag in B's queue", 15*time.Second, func() (bool, error) {
			q, err := b.actions.ReportQueue(ctx, badmin, courses.ReportOpen, 10)
			for _, r := range q {
				if r.ActivityID == rep.ActivityID && r.PostIRI == "" && r.TargetIRI == b.urls.User("bob") {
					return true, nil
				}
			}
			return false, err
		})
		if _, err := a.actions.ResolveReport(ctx, olga, rep.ID, outbox.RemedyBlockDomain, "x"); !errors.Is(err, courses.ErrForbidden) {
			t.Errorf("a moderator blocking a domain: %v, want ErrForbidden", err)
		}
		done, err := a.actions.ResolveReport(ctx, rhea, rep.ID, outbox.RemedyBlockDomain, "repeat offender")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(done.Resolution, "domain "+b.addr+" blocked") {
			t.Errorf("resolution %q", done.Resolution)
		}
		// In force at once in this process: no wait for the refresh.
		like := fmt.Appendf(nil, `{"@context":"https://www.w3.org/ns/activitystreams","id":"%s/likes/final","type":"Like","actor":%q,"object":%q}`,
			b.urls.User("bob"), b.urls.User("bob"), courseIRI)
		var se *federation.StatusError
		if err := b.client.Post(ctx, courseIRI+"/inbox", like, signer); !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
			t.Errorf("B after the block from the report: %v, want 403", err)
		}
		var n int
		if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM moderation_log WHERE action = 'domain.block' AND actor = 'rhea' AND report_id = $1 AND target = $2`,
			rep.ID, b.addr).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d log entries for the block from report %d (%v)", n, rep.ID, err)
		}
	})
}
