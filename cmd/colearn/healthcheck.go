package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheckCommand probes /healthz of the instance listening on
// COLEARN_LISTEN; container health checks run it.
func healthcheckCommand(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", "healthcheck [--listen ADDR]", stderr)
	listen := fs.String("listen", envOr("COLEARN_LISTEN", "127.0.0.1:8080"), "address the instance listens on (COLEARN_LISTEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", *listen, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: /healthz answered %d", resp.StatusCode)
	}
	return nil
}
