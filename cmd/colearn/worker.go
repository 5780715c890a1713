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
	in, stop, err := openInstance(ctx, c, stderr, false)
	if err != nil {
		return err
	}
	in.log.Info("colearn worker running", "version", version, "base", in.urls.Base())
	<-ctx.Done()
	in.log.Info("worker stopping: finishing running deliveries")
	stop()
	return nil
}
