package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/federation/credential"
)

const badgeSynopsis = `badge award --course SLUG --achievement URL_OR_ID --to USERNAME_OR_HANDLE_OR_IRI [--evidence TEXT] [--by USER]
       colearn badge revoke [--by USER] CREDENTIAL_URL
       colearn badge complete --course SLUG --learner USERNAME_OR_HANDLE_OR_IRI [--by USER]
       colearn badge verify [--key FILE]... [--offline] [--dev] CREDENTIAL.json

award issues an Open Badges 3.0 credential to an enrolled learner, delivers
it, and prints its URL. revoke revokes one. complete records a facilitator's
approval of a learner's completion and awards the course's "on completion"
badges. verify checks any eddsa-rdfc-2022 credential (- reads stdin) and
prints every check; it exits 0 only when the credential is valid. --key
gives a verification method (a Multikey JSON document with its id) to use
instead of fetching it; did:key methods resolve offline.`

// errInvalidCredential is verify's failure: the report says why.
var errInvalidCredential = errors.New("credential is not valid")

func badgeCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: colearn "+badgeSynopsis)
		return errors.New("no badge command given")
	}
	switch args[0] {
	case "verify":
		return badgeVerify(ctx, args[1:], stdin, stdout, stderr)
	case "award", "revoke", "complete":
		return badgeAdmin(ctx, args[0], args[1:], stdout, stderr)
	case "-h", "--help":
		fmt.Fprintln(stderr, "Usage: colearn "+badgeSynopsis)
		return nil
	}
	fmt.Fprintln(stderr, "Usage: colearn "+badgeSynopsis)
	return fmt.Errorf("unknown badge command %q", args[0])
}

func badgeAdmin(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	var slug, achievement, to, evidence, by string
	in, rest, closeFn, err := adminInstance(ctx, "badge "+cmd, badgeSynopsis, args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&by, "by", "", "username of the owner or moderator acting (default: the course's owner)")
		if cmd != "revoke" {
			fs.StringVar(&slug, "course", "", "the course's slug")
		}
		if cmd == "award" {
			fs.StringVar(&achievement, "achievement", "", "the achievement's URL or id")
			fs.StringVar(&to, "to", "", "the learner: local username, @name@host or actor IRI")
			fs.StringVar(&evidence, "evidence", "", "what the learner did, or a link to it")
		}
		if cmd == "complete" {
			fs.StringVar(&to, "learner", "", "the learner: local username, @name@host or actor IRI")
		}
	})
	if err != nil {
		return err
	}
	defer closeFn()
	if cmd == "revoke" {
		if len(rest) != 1 {
			return errors.New("give the credential's URL")
		}
		id := rest[0][strings.LastIndex(rest[0], "/")+1:]
		aw, err := in.courses.AwardByPublicID(ctx, in.pool, id)
		if err != nil {
			return fmt.Errorf("credential %s: %w", rest[0], err)
		}
		c, err := in.courses.CourseByID(ctx, in.pool, aw.CourseID)
		if err != nil {
			return err
		}
		_, u, err := in.courseActor(ctx, c.Slug, by)
		if err != nil {
			return err
		}
		if _, err := in.actions.RevokeBadge(ctx, u, id); err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		fmt.Fprintln(stdout, "revoked", in.actions.CredentialIRI(id))
		return nil
	}
	if slug == "" || to == "" || (cmd == "award" && achievement == "") {
		return errors.New("--course, --achievement and --to (or --learner) are required")
	}
	c, u, err := in.courseActor(ctx, slug, by)
	if err != nil {
		return err
	}
	if cmd == "complete" {
		awards, err := in.actions.CompleteCourse(ctx, u, c, to)
		if err != nil {
			return fmt.Errorf("complete: %w", err)
		}
		for _, aw := range awards {
			fmt.Fprintln(stdout, in.actions.CredentialIRI(aw.PublicID))
		}
		return nil
	}
	a, err := in.courses.AchievementByPublicID(ctx, in.pool, c.ID, achievement[strings.LastIndex(achievement, "/")+1:])
	if err != nil {
		return fmt.Errorf("achievement %s: %w", achievement, err)
	}
	aw, err := in.actions.AwardBadge(ctx, u, c, a, to, evidence)
	if err != nil {
		return fmt.Errorf("award: %w", err)
	}
	fmt.Fprintln(stdout, in.actions.CredentialIRI(aw.PublicID))
	return nil
}

type keyFiles []string

func (k *keyFiles) String() string     { return strings.Join(*k, ",") }
func (k *keyFiles) Set(v string) error { *k = append(*k, v); return nil }

func badgeVerify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("badge verify", badgeSynopsis, stderr)
	var keys keyFiles
	fs.Var(&keys, "key", "a verification method document (Multikey JSON with id and controller); repeatable")
	offline := fs.Bool("offline", false, "fetch nothing: keys only from --key and did:key, no status list")
	dev := fs.Bool("dev", envBool("COLEARN_DEV"), "allow http and loopback/private addresses when fetching (COLEARN_DEV=1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("give one credential file (or - for stdin)")
	}
	var data []byte
	var err error
	if fs.Arg(0) == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, credential.MaxDocument+1))
	} else {
		data, err = readCapped(fs.Arg(0))
	}
	if err != nil {
		return err
	}
	canon, err := credential.NewCanonicalizer()
	if err != nil {
		return err
	}
	v := &credential.Verifier{Canon: canon}
	for _, f := range keys {
		b, err := readCapped(f)
		if err != nil {
			return err
		}
		m, err := credential.ParseMultikey(b)
		if err != nil {
			return fmt.Errorf("--key %s: %w", f, err)
		}
		v.Offline = append(v.Offline, m)
	}
	if !*offline {
		fetch := &federation.CredentialFetcher{Client: federation.NewClient(federation.ClientConfig{
			AllowPrivate: *dev, UserAgent: "colearn/" + version + " (badge verify)",
		})}
		v.Keys, v.Status = fetch, fetch
	}
	r := v.Verify(ctx, data)
	if r.Achievement != "" || r.Name != "" {
		fmt.Fprintf(stdout, "%s\n", firstNonEmpty(r.Achievement, r.Name))
	}
	if r.IssuerID != "" {
		fmt.Fprintf(stdout, "issuer:  %s\nsubject: %s\n", r.IssuerID, r.Subject)
	}
	for _, c := range r.Checks {
		mark := "ok  "
		switch {
		case c.Skipped:
			mark = "--  "
		case !c.OK:
			mark = "FAIL"
		}
		fmt.Fprintf(stdout, "%s %-10s %s\n", mark, c.Name, c.Detail)
	}
	if !r.Valid {
		f := r.Failed()
		return fmt.Errorf("%w: %s: %s", errInvalidCredential, f.Name, f.Detail)
	}
	fmt.Fprintln(stdout, "valid")
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// readCapped reads a file of at most credential.MaxDocument bytes (more is
// left for ParseDocument to refuse).
func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, credential.MaxDocument+1))
}
