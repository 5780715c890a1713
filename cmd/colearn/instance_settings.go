package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/colearn/colearn/courses"
)

const instanceSynopsis = `instance set [--name NAME] [--description TEXT] [--contact EMAIL-OR-URL] [--rules-file FILE]
       colearn instance show

Sets or shows the instance's identity: the name shown in page headers, link
previews (og:site_name) and NodeInfo instead of the bare host, a short
description, a contact and the rules (Markdown, read from a file; "-" reads
stdin). set changes only the fields given; an empty value clears one. A
running instance shows the change on its next request.`

func instanceCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "set" && args[0] != "show") {
		fmt.Fprintln(stderr, "Usage: colearn "+instanceSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("unknown instance command")
	}
	var c config
	fs := newFlagSet("instance "+args[0], instanceSynopsis, stderr)
	databaseFlags(fs, &c)
	var id courses.Identity
	var rulesFile string
	if args[0] == "set" {
		fs.StringVar(&id.Name, "name", "", "the instance's name")
		fs.StringVar(&id.Description, "description", "", "a short description of the instance")
		fs.StringVar(&id.Contact, "contact", "", "an e-mail address or URL to reach the admins")
		fs.StringVar(&rulesFile, "rules-file", "", `file holding the rules, in Markdown ("-" for stdin)`)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if args[0] == "set" && !given["name"] && !given["description"] && !given["contact"] && !given["rules-file"] {
		fs.Usage()
		return errors.New("give at least one of --name, --description, --contact, --rules-file")
	}
	if given["rules-file"] {
		rules, err := readRules(rulesFile, stdin)
		if err != nil {
			return err
		}
		id.Rules = rules
	}
	_, pool, closeDB, err := connect(ctx, c, stderr, false)
	if err != nil {
		return err
	}
	defer closeDB()
	store := courses.NewStore(pool)
	cur, err := store.Identity(ctx)
	if err != nil {
		return err
	}
	if args[0] == "set" {
		for _, f := range []struct {
			flag     string
			cur, new *string
		}{
			{"name", &cur.Name, &id.Name}, {"description", &cur.Description, &id.Description},
			{"contact", &cur.Contact, &id.Contact}, {"rules-file", &cur.Rules, &id.Rules},
		} {
			if given[f.flag] {
				*f.cur = *f.new
			}
		}
		if cur, err = store.SetIdentity(ctx, cur); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "name: %s\ndescription: %s\ncontact: %s\nrules:\n%s\n", cur.Name, cur.Description, cur.Contact, cur.Rules)
	return nil
}

// readRules reads the rules file, or stdin for "-", refusing files larger
// than the rules may be.
func readRules(path string, stdin io.Reader) (string, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("rules file: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 4*courses.MaxInstanceRulesLen+1))
	if err != nil {
		return "", fmt.Errorf("rules file: %w", err)
	}
	if len(b) > 4*courses.MaxInstanceRulesLen {
		return "", fmt.Errorf("rules file: longer than %d characters", courses.MaxInstanceRulesLen)
	}
	return string(b), nil
}
