package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/outbox"
)

const domainSynopsis = `domain block HOST [--reason TEXT] | domain unblock HOST [--reason TEXT] | domain list

Blocks a server for the whole instance: its requests get 403, nothing is
fetched from it, nothing is delivered to it but the Reject of its members'
Follow or Join, and its members leave every course. HOST is a host name
(covering its subdomains and every port) or host:port. A running instance
applies a change within two seconds. Every block and unblock goes to the
moderation log as done by "cli". --host (COLEARN_HOST, or --dev) must be the
instance's public host, as for serve, since the Rejects are sent from it.`

// domainCommand runs `colearn domain block|unblock|list`.
func domainCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "block" && args[0] != "unblock" && args[0] != "list") {
		fmt.Fprintln(stderr, "Usage: colearn "+domainSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("unknown domain command")
	}
	sub := args[0]
	var c config
	fs := newFlagSet("domain "+sub, domainSynopsis, stderr)
	databaseFlags(fs, &c)
	fs.StringVar(&c.Host, "host", envOr("COLEARN_HOST", ""), "public host[:port] of the instance (COLEARN_HOST)")
	fs.BoolVar(&c.Dev, "dev", envBool("COLEARN_DEV"), "development mode, as for serve (COLEARN_DEV=1)")
	fs.StringVar(&c.Listen, "listen", envOr("COLEARN_LISTEN", "127.0.0.1:8080"), "listen address, for the default host in development (COLEARN_LISTEN)")
	reason := fs.String("reason", "", "why (kept in the block and the moderation log)")
	host, err := parseOneInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if (sub == "list") != (host == "") {
		fs.Usage()
		if sub == "list" {
			return errors.New("domain list takes no HOST")
		}
		return errors.New("HOST is required")
	}
	if err := c.finish(); err != nil {
		return err
	}
	_, pool, closeDB, err := connect(ctx, c, stderr, false)
	if err != nil {
		return err
	}
	defer closeDB()
	store := courses.NewStore(pool)
	if sub == "list" {
		blocks, err := store.DomainBlocks(ctx, pool)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "HOST\tBLOCKED AT\tBY\tREASON")
		for _, b := range blocks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.Host, b.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), b.CreatedBy, b.Reason)
		}
		return tw.Flush()
	}
	keys := federation.NewKeyStore(pool)
	urls := federation.URLs{Scheme: c.scheme(), Host: c.Host}
	// The Rejects are stored and queued here; a running serve or worker
	// delivers them.
	ob, err := outbox.New(outbox.Config{Pool: pool, Keys: keys, Client: federation.NewClient(federation.ClientConfig{}),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	actions := &outbox.Actions{Pool: pool, Courses: store, Keys: keys, Sender: &outbox.Sender{Outbox: ob, URLs: urls}}
	if sub == "unblock" {
		if err := actions.UnblockDomain(ctx, "cli", host, *reason); err != nil {
			return fmt.Errorf("unblock %s: %w", host, err)
		}
		fmt.Fprintf(stdout, "unblocked %s\n", host)
		return nil
	}
	b, gone, err := actions.BlockDomain(ctx, "cli", host, *reason)
	if err != nil {
		return fmt.Errorf("block %s: %w", host, err)
	}
	fmt.Fprintf(stdout, "blocked %s; %s ended\n", b.Host, memberships(len(gone)))
	return nil
}

// parseOneInterspersed parses flags before and after one positional
// argument, which it returns ("" when there is none). More than one
// positional argument is an error.
func parseOneInterspersed(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parseInterspersed(fs, args)
	switch {
	case err != nil:
		return "", err
	case len(pos) == 0:
		return "", nil
	case len(pos) > 1:
		fs.Usage()
		return "", fmt.Errorf("unexpected arguments %q", pos[1:])
	}
	return pos[0], nil
}

// memberships says "1 membership" or "N memberships".
func memberships(n int) string {
	if n == 1 {
		return "1 membership"
	}
	return fmt.Sprintf("%d memberships", n)
}
