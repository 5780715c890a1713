package main

// loadgen reads: every public document and page of a running colearn,
// measured in one run beside /healthz as the ceiling:
//
//	loadgen reads -base http://127.0.0.1:8080 -user ada -course intro-go \
//	    -duration 6s -concurrency 32
//
// The post and the lesson are found in the course's outbox unless -post and
// -lesson name them. Each document is loaded for -duration on keep-alive
// connections, in rounds alternating with rounds of /healthz, and its rate
// is divided by /healthz's rate in those rounds (other load on the machine
// then weighs on both alike). The table prints each target
// (≥ 0.8 × /healthz for ActivityStreams documents and WebFinger, ≥ 0.5 for
// HTML pages) and MISS where a document is below it or had errors.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/colearn/colearn/internal/httpload"
)

func runReads(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newReadsFlags(stderr)
	base := fs.String("base", "http://127.0.0.1:8080", "the instance's URL (loopback only)")
	user := fs.String("user", "", "a local user's name (required)")
	course := fs.String("course", "", "a local course's slug (required)")
	post := fs.String("post", "", "a post's IRI or path (default: found in the course's outbox)")
	lesson := fs.String("lesson", "", "a lesson's IRI or path (default: found in the course's outbox)")
	duration := fs.Duration("duration", 5*time.Second, "how long to load each URL (at most 60s)")
	concurrency := fs.Int("concurrency", 32, "workers, each with one request in flight")
	markdown := fs.Bool("markdown", false, "also print the table in Markdown, for the README")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *user == "" || *course == "":
		fs.Usage()
		return errors.New("-user and -course are required")
	case *duration <= 0 || *duration > maxDuration:
		return fmt.Errorf("-duration must be above 0 and at most %s", maxDuration)
	case *concurrency <= 0:
		return errors.New("-concurrency must be above 0")
	}
	if err := httpload.CheckLoopback(*base); err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: httpload.NewTransport(1)}
	// The instance's public host, as its handles carry it, is in the
	// user's actor id.
	var actor struct{ ID string }
	if err := getJSON(ctx, client, *base+"/users/"+url.PathEscape(*user), &actor); err != nil {
		return fmt.Errorf("user %s: %w", *user, err)
	}
	id, err := url.Parse(actor.ID)
	if err != nil || id.Host == "" {
		return fmt.Errorf("user %s: actor id %q is not a URL", *user, actor.ID)
	}
	if *post == "" || *lesson == "" {
		p, l, err := findPostAndLesson(ctx, client, *base+"/courses/"+url.PathEscape(*course)+"/outbox?page=1")
		if err != nil {
			return fmt.Errorf("course %s: %w", *course, err)
		}
		if *post == "" {
			*post = p
		}
		if *lesson == "" {
			*lesson = l
		}
	}
	targets := httpload.ReadTargets(httpload.Site{Base: *base, Host: id.Host, User: *user, Course: *course, Post: *post, Lesson: *lesson})
	baseline := httpload.Target{Name: "/healthz", URL: *base + "/healthz"}
	tb, err := httpload.MeasureTable(ctx, baseline, targets, *concurrency, *duration)
	if err != nil {
		return err
	}
	tb.Print(stdout)
	if *markdown {
		fmt.Fprintln(stdout)
		tb.Markdown(stdout)
	}
	if *post == "" || *lesson == "" {
		fmt.Fprintln(stdout, "note: the course's outbox holds no post or no lesson; publish one to measure it")
	}
	return nil
}

// findPostAndLesson returns the newest discussion post and lesson the
// course's outbox page announces ("" when there is none).
func findPostAndLesson(ctx context.Context, client *http.Client, outboxPage string) (post, lesson string, err error) {
	var page struct {
		OrderedItems []struct {
			Type   string
			Object json.RawMessage
		}
	}
	if err := getJSON(ctx, client, outboxPage, &page); err != nil {
		return "", "", err
	}
	for _, it := range page.OrderedItems {
		var iri string
		var obj struct{ ID, Type string }
		if json.Unmarshal(it.Object, &iri) != nil {
			if json.Unmarshal(it.Object, &obj) != nil {
				continue
			}
			iri = obj.ID
		}
		switch {
		case it.Type == "Create" && obj.Type == "Article" && lesson == "":
			lesson = iri
		case (it.Type == "Announce" || it.Type == "Create" && obj.Type == "Note") && post == "" && iri != "":
			post = iri
		}
	}
	return post, lesson, nil
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	if err := httpload.CheckLoopback(u); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/activity+json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

func newReadsFlags(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("loadgen reads", flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
