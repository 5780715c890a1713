package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/colearn/colearn/outbox"
)

const cohostUsage = `Usage:
  colearn course cohost [--by ADMIN] HANDLE_OR_URL
  colearn course uncohost HANDLE_OR_URL
  colearn course cohosted

Co-hosting lists a course of another server in this instance's catalogue:
the course and its syllabus are fetched from its server and mirrored here,
and the instance actor follows the course (the running instance's workers
send the Follow), so the mirror follows the course's changes. uncohost
drops the mirror and sends Undo(Follow); cohosted lists them.`

// cohostRefreshBatch bounds how many co-hosted courses one periodic round
// refetches.
const cohostRefreshBatch = 50

// cohostCommand runs course cohost, uncohost and cohosted.
func cohostCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := newFlagSet("course "+args[0], cohostUsage, stderr)
	instanceFlags(fs, &c)
	by := fs.String("by", "command line", "who adds the course (recorded with it)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if (args[0] != "cohosted" && len(pos) != 1) || (args[0] == "cohosted" && len(pos) != 0) {
		fs.Usage()
		return errors.New("give one course: its handle @slug@host or its URL")
	}
	env, err := openCLIEnv(ctx, c, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	switch args[0] {
	case "cohost":
		cc, err := env.actions.Cohost(ctx, *by, pos[0])
		if err != nil {
			return fmt.Errorf("co-host %s: %w", pos[0], err)
		}
		fmt.Fprintf(stdout, "co-hosting %s (%s); the Follow is sent by the running instance\n", cc.IRI, cc.Name)
	case "uncohost":
		cc, err := env.actions.Uncohost(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("stop co-hosting %s: %w", pos[0], err)
		}
		fmt.Fprintf(stdout, "stopped co-hosting %s\n", cc.IRI)
	default:
		list, err := env.store.CohostedCourses(ctx, env.pool, 10_000)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "COURSE\tNAME\tSTATE\tREFRESHED\tERROR")
		for _, cc := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cc.IRI, cc.Name, cc.State, when(cc.RefreshedAt), cc.RefreshError)
		}
		return tw.Flush()
	}
	return nil
}

// refreshCohosted refetches the mirrors of co-hosted courses every
// interval (a batch at a time, least recently refreshed first) until ctx
// ends; a course whose server is down keeps its mirror.
func refreshCohosted(ctx context.Context, actions *outbox.Actions, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := actions.RefreshCohostedCourses(ctx, cohostRefreshBatch)
		if err != nil && ctx.Err() == nil {
			log.Warn("refresh co-hosted courses", "refreshed", n, "err", err)
		}
	}
}
