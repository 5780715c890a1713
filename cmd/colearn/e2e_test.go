package main

// End to end: the real colearn binary, built from this package, serving on
// a loopback port with its private PostgreSQL cluster in a data folder, as
// someone trying colearn out would run it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colearn/colearn/federation"
)

// buildColearn builds the colearn binary into a temporary folder.
func buildColearn(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build colearn: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "colearn")
	cmd := exec.Command(goBin, "build", "-buildvcs=false", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// e2eEnv is the environment of the colearn processes: this one's without
// DATABASE_URL and colearn's own settings, so flags alone configure them and
// the private cluster is used.
func e2eEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "DATABASE_URL" || strings.HasPrefix(k, "COLEARN_") || strings.HasPrefix(k, "PG") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects a process's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// serveProcess is a running `colearn serve`.
type serveProcess struct {
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
	err    error // set when exited is closed
	addr   string
	client *http.Client
	// metrics is the address of the metrics listener, when startServe set one.
	metrics string
}

// startServe starts `colearn serve --dev` on port with the data folder data
// and waits until it is ready. If the test ends with the process still
// running, it is killed.
func startServe(t *testing.T, bin, data string, port int) *serveProcess {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	metrics := "127.0.0.1:" + strconv.Itoa(freePort(t))
	p := startServeWith(t, bin, addr, e2eEnv(), "serve", "--dev", "--listen", addr, "--metrics-listen", metrics, "--data", data, "--log-level", "info")
	p.metrics = metrics
	return p
}

// startServeWith starts colearn with args and env, answering on addr, and
// waits until it is ready.
func startServeWith(t *testing.T, bin, addr string, env []string, args ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{
		cmd:    exec.Command(bin, args...),
		out:    &lockedBuffer{},
		exited: make(chan struct{}),
		addr:   addr,
	}
	// Every request goes to the loopback listen address, whatever host the
	// URL names (the instance's ids use localhost:port).
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	p.client = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start colearn serve: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("colearn serve output:\n%s", p.out.String())
		}
	})

	deadline := time.Now().Add(60 * time.Second)
	for {
		status, _, err := p.get(t, "/readyz", "")
		if err == nil && status == http.StatusOK {
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("colearn serve exited before it was ready: %v\n%s", p.err, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("colearn serve not ready within 60 s (last: %d, %v)\n%s", status, err, p.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get fetches path (or an absolute URL, sent to the instance) and returns
// the status and body.
func (p *serveProcess) get(t *testing.T, target, accept string) (int, []byte, error) {
	t.Helper()
	if strings.HasPrefix(target, "/") {
		target = "http://" + p.addr + target
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	if err != nil {
		return 0, nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// mustGet is get that fails the test unless the answer is 200.
func (p *serveProcess) mustGet(t *testing.T, target, accept string) []byte {
	t.Helper()
	status, body, err := p.get(t, target, accept)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", target, status, body)
	}
	return body
}

// stop sends SIGTERM and waits for a clean exit.
func (p *serveProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("colearn serve still running 30 s after SIGTERM\n%s", p.out.String())
	}
	if p.err != nil {
		t.Fatalf("colearn serve exited with %v after SIGTERM\n%s", p.err, p.out.String())
	}
}

// postgresStopped fails the test if the private cluster in data still runs.
func postgresStopped(t *testing.T, data string) {
	t.Helper()
	pidFile := filepath.Join(data, "postgres", "pgdata", "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("%s: first line %q is not a pid", pidFile, line)
	}
	if syscall.Kill(pid, 0) == nil {
		syscall.Kill(pid, syscall.SIGQUIT) // don't leave it behind
		t.Fatalf("postgres (pid %d) for %s still runs after colearn serve exited", pid, data)
	}
}

// resolveCarol checks carol's WebFinger and actor document as a peer would
// fetch them.
func resolveCarol(t *testing.T, p *serveProcess, host string) {
	t.Helper()
	q := url.Values{"resource": {"acct:carol@" + host}}
	jrd, err := federation.ParseJRD(p.mustGet(t, "/.well-known/webfinger?"+q.Encode(), "application/jrd+json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "acct:carol@" + host; jrd.Subject != want {
		t.Errorf("WebFinger subject = %q, want %q", jrd.Subject, want)
	}
	href, err := jrd.ActorLink()
	if err != nil {
		t.Fatal(err)
	}
	wantIRI := "http://" + host + "/users/carol"
	if href != wantIRI {
		t.Fatalf("WebFinger self link = %q, want %q", href, wantIRI)
	}
	body := p.mustGet(t, href, "application/activity+json")
	var doc struct {
		ID                string `json:"id"`
		Type              string `json:"type"`
		PreferredUsername string `json:"preferredUsername"`
		Inbox             string `json:"inbox"`
		PublicKey         struct {
			ID           string `json:"id"`
			Owner        string `json:"owner"`
			PublicKeyPem string `json:"publicKeyPem"`
		} `json:"publicKey"`
		AssertionMethod []struct {
			ID                 string `json:"id"`
			Type               string `json:"type"`
			Controller         string `json:"controller"`
			PublicKeyMultibase string `json:"publicKeyMultibase"`
		} `json:"assertionMethod"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("actor document: %v\n%s", err, body)
	}
	if doc.ID != wantIRI || doc.Type != "Person" || doc.PreferredUsername != "carol" {
		t.Errorf("actor id %q, type %q, preferredUsername %q; want %q, Person, carol", doc.ID, doc.Type, doc.PreferredUsername, wantIRI)
	}
	if doc.PublicKey.ID != federation.MainKey(wantIRI) || doc.PublicKey.Owner != wantIRI {
		t.Errorf("publicKey id %q owner %q, want %q owned by %q", doc.PublicKey.ID, doc.PublicKey.Owner, federation.MainKey(wantIRI), wantIRI)
	}
	if _, err := federation.ParsePublicKeyPEM(doc.PublicKey.PublicKeyPem); err != nil {
		t.Errorf("publicKeyPem: %v", err)
	}
	if len(doc.AssertionMethod) != 1 {
		t.Fatalf("assertionMethod has %d entries, want 1: %s", len(doc.AssertionMethod), body)
	}
	am := doc.AssertionMethod[0]
	if am.Type != "Multikey" || am.ID != federation.AssertionKey(wantIRI) || am.Controller != wantIRI {
		t.Errorf("assertionMethod = %+v, want a Multikey %s controlled by %s", am, federation.AssertionKey(wantIRI), wantIRI)
	}
	if _, err := federation.DecodeEd25519Multikey(am.PublicKeyMultibase); err != nil {
		t.Errorf("publicKeyMultibase: %v", err)
	}
	// The parser peers use accepts the document too.
	if _, err := federation.ParseActor(body, href); err != nil {
		t.Errorf("ParseActor: %v", err)
	}
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the colearn binary")
	}
	bin := buildColearn(t)

	t.Run("HostRequiredWithoutDev", func(t *testing.T) {
		t.Parallel()
		cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:"+strconv.Itoa(freePort(t)), "--data", filepath.Join(t.TempDir(), "data"))
		cmd.Env = e2eEnv()
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("colearn serve without --host and --dev: %v, want exit status 1\n%s", err, out)
		}
		if !strings.Contains(string(out), "COLEARN_HOST") {
			t.Errorf("error does not mention COLEARN_HOST:\n%s", out)
		}
	})

	t.Run("ServeWithPrivateCluster", func(t *testing.T) {
		t.Parallel()
		data := filepath.Join(t.TempDir(), "data")
		port := freePort(t)
		host := "localhost:" + strconv.Itoa(port)
		p := startServe(t, bin, data, port)
		if _, err := os.Stat(filepath.Join(data, "postgres", "pgdata", "PG_VERSION")); err != nil {
			t.Errorf("no private cluster in the data folder: %v", err)
		}
		if out := p.out.String(); !strings.Contains(out, "private=true") {
			t.Errorf("serve did not report a private database:\n%s", out)
		}

		// user create attaches to the cluster the running serve started.
		create := exec.Command(bin, "user", "create", "--username", "carol", "--data", data)
		create.Env = e2eEnv()
		create.Stdin = strings.NewReader("carols long password\n")
		out, err := create.CombinedOutput()
		if err != nil {
			t.Fatalf("colearn user create: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "created user carol") {
			t.Errorf("colearn user create said:\n%s", out)
		}

		resolveCarol(t, p, host)
		if body := p.mustGet(t, "/healthz", ""); string(body) != "ok\n" {
			t.Errorf("/healthz = %q", body)
		}
		if body := p.mustGet(t, "/readyz", ""); string(body) != "ready\n" {
			t.Errorf("/readyz = %q", body)
		}
		// Metrics are on their own listener, not the public one.
		if status, _, err := p.get(t, "/metrics", ""); err != nil || status != http.StatusNotFound {
			t.Errorf("public GET /metrics: %d, %v; want 404", status, err)
		}
		if body := getMetrics(t, p.metrics); !bytes.Contains(body, []byte("colearn_http_requests_total")) {
			t.Errorf("/metrics has no colearn_http_requests_total:\n%s", body)
		}
		var ni struct {
			Version  string `json:"version"`
			Software struct {
				Name string `json:"name"`
			} `json:"software"`
			Usage struct {
				Users struct {
					Total int `json:"total"`
				} `json:"users"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(p.mustGet(t, "/nodeinfo/2.1", "application/json"), &ni); err != nil {
			t.Fatal(err)
		}
		if ni.Version != "2.1" || ni.Software.Name != "colearn" || ni.Usage.Users.Total != 1 {
			t.Errorf("NodeInfo 2.1: version %q, software %q, users.total %d; want 2.1, colearn, 1",
				ni.Version, ni.Software.Name, ni.Usage.Users.Total)
		}

		p.stop(t)
		postgresStopped(t, data)

		// A restart on the same data folder keeps everything.
		p = startServe(t, bin, data, port)
		resolveCarol(t, p, host)
		p.stop(t)
		postgresStopped(t, data)
	})

	t.Run("NoPostgresBinaries", func(t *testing.T) {
		t.Parallel()
		if _, err := os.Stat("/usr/lib/postgresql"); err == nil {
			// pgcluster also looks in /usr/lib/postgresql/*/bin, so emptying
			// PATH would not hide the binaries from it.
			t.Skip("/usr/lib/postgresql exists: emptying PATH cannot hide the PostgreSQL binaries")
		}
		cmd := exec.Command(bin, "serve", "--dev", "--listen", "127.0.0.1:"+strconv.Itoa(freePort(t)), "--data", filepath.Join(t.TempDir(), "data"))
		var env []string
		for _, kv := range e2eEnv() {
			if !strings.HasPrefix(kv, "PATH=") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, "PATH=")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("colearn serve --dev without PostgreSQL binaries succeeded:\n%s", out)
		}
		if !strings.Contains(string(out), "DATABASE_URL") || !strings.Contains(string(out), "install PostgreSQL") {
			t.Errorf("error does not say to install PostgreSQL or set DATABASE_URL:\n%s", out)
		}
	})
}

// getMetrics reads /metrics from a metrics listener at addr.
func getMetrics(t *testing.T, addr string) []byte {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET metrics: %d, %v", resp.StatusCode, err)
	}
	return body
}
