package main

import (
	"bytes"
	"context"
	"github.com/jackc/pgx/v5"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/colearn/colearn/internal/pgcluster"
)

// instance is a real `colearn serve` process on its own private, durable
// PostgreSQL (fsync and synchronous_commit on: the server's defaults).
type instance struct {
	bin, data     string
	addr, metrics string
	cmd           *exec.Cmd
	out           *bytes.Buffer
	exited        chan struct{}
	databaseURL   string
	cluster       *pgcluster.Cluster
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startInstance builds colearn, starts `colearn serve --dev` on a fresh
// data folder, and creates a user and the course "load" with the CLI.
func startInstance(t testing.TB) *instance {
	t.Helper()
	dir := t.TempDir()
	in := &instance{bin: filepath.Join(dir, "colearn"), data: filepath.Join(dir, "data"), addr: freeAddr(t), metrics: freeAddr(t)}
	build := exec.Command("go", "build", "-o", in.bin, "github.com/colearn/colearn/cmd/colearn")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build colearn: %v\n%s", err, out)
	}
	in.start(t)
	create := exec.Command(in.bin, "user", "create", "--username", "ada", "--data", in.data)
	create.Stdin = strings.NewReader("a long enough password\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	course := exec.Command(in.bin, "course", "create", "--owner", "ada", "--slug", "load", "--title", "Load", "--dev", "--listen", in.addr, "--data", in.data)
	if out, err := course.CombinedOutput(); err != nil {
		t.Fatalf("course create: %v\n%s", err, out)
	}
	// Attach to the instance's private cluster to read its backlog.
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: filepath.Join(in.data, "postgres"), Database: "colearn"})
	if err != nil {
		t.Fatal(err)
	}
	in.cluster, in.databaseURL = c, c.URL()
	t.Cleanup(func() { c.Stop() })
	return in
}

// start runs `colearn serve` and waits until it is ready.
func (in *instance) start(t testing.TB) {
	t.Helper()
	in.out, in.exited = &bytes.Buffer{}, make(chan struct{})
	in.cmd = exec.Command(in.bin, "serve", "--dev", "--listen", in.addr, "--metrics-listen", in.metrics, "--data", in.data, "--log-level", "warn")
	in.cmd.Env = append(os.Environ(), "DATABASE_URL=")
	in.cmd.Stdout, in.cmd.Stderr = in.out, in.out
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.cmd.Wait(); close(in.exited) }()
	t.Cleanup(func() {
		select {
		case <-in.exited:
		default:
			in.cmd.Process.Signal(syscall.SIGTERM)
			<-in.exited
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get("http://" + in.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-in.exited:
			t.Fatalf("colearn serve exited:\n%s", in.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("colearn serve not ready:\n%s", in.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// restart stops the process (SIGTERM) and starts a fresh one on the same
// data folder: nothing remembered in memory survives.
func (in *instance) restart(t testing.TB) {
	t.Helper()
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(time.Minute):
		t.Fatalf("colearn serve did not stop:\n%s", in.out)
	}
	in.start(t)
}

func (in *instance) args(n int, extra ...string) []string {
	return append([]string{"-url", "http://" + in.addr, "-course", "load", "-metrics", "http://" + in.metrics + "/metrics",
		"-database-url", in.databaseURL, "-n", strconv.Itoa(n)}, extra...)
}

// A small load through the whole driver: every activity is accepted and
// applied (the posts are in the course's discussion), and replays are
// accepted as duplicates without adding posts.
func TestInboxLoadAppliesEverything(t *testing.T) {
	t.Parallel()
	in := startInstance(t)
	o, err := parse(in.args(300, "-actors", "10", "-concurrency", "8"), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := prepare(ctx, o)
	if err != nil {
		t.Fatalf("prepare: %v\n%s", err, in.out)
	}
	defer d.close()
	rep, err := d.load(ctx)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, in.out)
	}
	if rep.drainErr != nil {
		t.Fatalf("backlog: %v", rep.drainErr)
	}
	if rep.load.accepted != 300 {
		t.Fatalf("accepted %d of 300 (first failure %s)", rep.load.accepted, rep.load.firstError)
	}
	if err := d.replay(ctx, rep); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rep.print(&buf)
	t.Log(buf.String())
	// The posts are counted in the database itself, not through the
	// driver's backlog reader (which may read the metrics instead).
	db, err := pgx.Connect(ctx, in.databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	posts := func() int {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM posts WHERE author_iri LIKE $1`, d.actors.base+"/%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := posts(); n != 300 {
		t.Fatalf("%d posts in the course after the load, want 300", n)
	}
	if rep.dup.accepted != 300 {
		t.Fatalf("replay: %d of 300 answered 2xx", rep.dup.accepted)
	}
	if _, _, err := d.bl.drained(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := posts(); n != 300 {
		t.Fatalf("%d posts after the replay, want 300", n)
	}
	if !strings.Contains(buf.String(), "target ≥ 0.13") {
		t.Errorf("report lacks the targets:\n%s", buf.String())
	}
}
