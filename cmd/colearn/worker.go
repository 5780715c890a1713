package main

import (
	"context"
	"io"
)

// workerCommand runs the background work of an instance (delivering the
// outbox, applying what the inboxes accepted) without serving HTTP, so that
// delivery can scale over several processes sharing one database. It takes
// serve's flags: the host must be the instance's.
func workerCommand(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := instanceConfig("worker", "worker [flags]\n\nRuns delivery and inbox processing without serving HTTP; takes serve's flags.", args, stderr)
	if err != nil {
		return err
	}
	log, pool, closeDB, err := connect(ctx, c, stderr, false)
	if err != nil {
		return err
	}
	defer closeDB()
	warnIfDev(c, log)
	in, err := newInstance(ctx, c, pool, log)
	if err != nil {
		return err
	}
	log.Info("colearn worker running", "version", version, "base", in.urls.Base())
	<-ctx.Done()
	log.Info("worker stopping: finishing running deliveries")
	in.Close()
	return nil
}
