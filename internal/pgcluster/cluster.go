// Package pgcluster runs a private PostgreSQL cluster from the machine's
// installed server binaries (initdb, postgres) inside a data folder, listening
// only on a Unix socket. It lets `colearn serve` start with no database set up
// and lets the test suite bring its own PostgreSQL.
//
// The cluster is reachable only by its owner: the socket folder and the
// socket are mode 0700, and connections authenticate with scram-sha-256 and
// a generated password kept in the cluster folder (file "password", mode
// 0600); pg_hba.conf has no trust line.
//
// PostgreSQL refuses to run as root, so when the current process is root the
// cluster's files are owned by, and its server runs as, a dedicated
// unprivileged system user, ServerUser, created with useradd if missing.
// Parent folders the server user cannot search get an ACL entry for that
// user alone (search only); nothing is opened to other users.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries means initdb or postgres could not be found. Its message says
// what to install or set instead.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, postgres) not found in PATH or /usr/lib/postgresql/*/bin: install PostgreSQL 15 or newer (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to an existing database")

// Options configure a private cluster.
type Options struct {
	// Dir is the folder that holds the cluster; it is created if missing.
	Dir string
	// Database is the database created in the cluster for the caller.
	Database string
	// Fast trades durability for speed (no fsync); for tests only.
	Fast bool
	// StopAttached makes Stop shut down a server that was already running
	// when Start found it (left by a killed process); by default Stop only
	// stops a server it started.
	StopAttached bool
	// Logger receives start and stop messages; nil discards them.
	Logger *slog.Logger
}

// Cluster is a running private PostgreSQL server.
type Cluster struct {
	opts    Options
	dataDir string
	sockDir string
	cmd     *exec.Cmd
	exited  chan struct{}
	runErr  error
	logFile *os.File
	tmpSock bool
	// password is the superuser's, from passwordFile.
	password string
	// attached means the server was already running when Start was called.
	attached bool
}

const superuser = "colearn"

// ServerUser is the system user the server runs as when colearn runs as
// root.
const ServerUser = "colearn-pg"

// passwordFile holds the superuser's generated password, in the cluster
// folder (Options.Dir).
const passwordFile = "password"

// Start initialises the cluster if its data folder is new, starts the server
// and waits until it accepts connections. A server left running by a process
// that was killed is stopped first. Stop must be called to shut it down.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Database == "" {
		opts.Database = "colearn"
	}
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, dataDir: filepath.Join(dir, "pgdata"), exited: make(chan struct{})}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	if c.password, err = readOrCreatePassword(filepath.Join(dir, passwordFile)); err != nil {
		return nil, err
	}
	// Unix socket paths are limited to about 100 bytes.
	c.sockDir = filepath.Join(dir, "pgsock")
	if len(c.sockDir) > 80 {
		if c.sockDir, err = os.MkdirTemp("", "colearn-pg"); err != nil {
			return nil, err
		}
		c.tmpSock = true
	} else if err := os.MkdirAll(c.sockDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(c.sockDir, 0o700); err != nil {
		return nil, err
	}
	if err := chownTo(cred, dir, c.sockDir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx, bin, cred); err != nil {
			return nil, err
		}
	}
	if sock, ok := runningServer(c.dataDir); ok {
		// Another colearn process (or one that was killed) runs the server:
		// use it, and leave it running unless StopAttached says otherwise.
		opts.Logger.Info("using the private PostgreSQL already running", "dir", c.dataDir)
		if c.tmpSock {
			os.RemoveAll(c.sockDir)
			c.tmpSock = false
		}
		c.sockDir, c.attached = sock, true
		if err := c.waitReady(ctx); err != nil {
			return nil, err
		}
		return c, c.ensureDatabase(ctx)
	}
	if err := c.start(ctx, bin, cred); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.requirePasswords(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.ensureDatabase(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// DSN returns the connection string of the named database in the cluster.
func (c *Cluster) DSN(database string) string {
	return fmt.Sprintf("host=%s port=5432 user=%s password=%s dbname=%s sslmode=disable", c.sockDir, superuser, c.password, database)
}

// URL returns the connection string of the caller's database. It holds the
// password: never log it.
func (c *Cluster) URL() string { return c.DSN(c.opts.Database) }

// Stop shuts the server down (fast shutdown: open sessions are ended, all
// committed data is kept) and waits for it to exit.
func (c *Cluster) Stop() error {
	defer func() {
		if c.logFile != nil {
			c.logFile.Close()
		}
		if c.tmpSock {
			os.RemoveAll(c.sockDir)
		}
	}()
	if c.attached {
		if c.opts.StopAttached {
			stopPID(c.dataDir, c.opts.Logger)
		}
		return nil
	}
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	select {
	case <-c.exited:
		return nil
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	c.opts.Logger.Info("private PostgreSQL stopped", "dir", c.dataDir)
	return nil
}

func (c *Cluster) initdb(ctx context.Context, bin binaries, cred *syscall.Credential) error {
	args := []string{"-D", c.dataDir, "-U", superuser, "--auth=scram-sha-256", "--pwfile=" + filepath.Join(filepath.Dir(c.dataDir), passwordFile),
		"--encoding=UTF8", "--locale=C"}
	if c.opts.Fast {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, bin.initdb, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", c.dataDir, err, out)
	}
	c.opts.Logger.Info("private PostgreSQL cluster created", "dir", c.dataDir)
	return nil
}

func (c *Cluster) start(ctx context.Context, bin binaries, cred *syscall.Credential) error {
	// autovacuum looks at the database every 5 s rather than every minute:
	// the queue tables fill by thousands of rows a second, and their
	// prepared statements keep the plans made from their last statistics
	// (migrations/00020_queue_statistics.sql).
	args := []string{"-D", c.dataDir, "-k", c.sockDir, "-p", "5432",
		"-c", "listen_addresses=", "-c", "unix_socket_permissions=0700", "-c", "max_connections=200",
		"-c", "autovacuum_naptime=5s"}
	if c.opts.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	logPath := filepath.Join(filepath.Dir(c.dataDir), "postgres.log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	c.logFile = f
	cmd := exec.Command(bin.postgres, args...)
	// Own process group: a Ctrl-C at the terminal reaches colearn, which then
	// shuts the server down after it has stopped using it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.cmd = cmd
	go func() {
		c.runErr = cmd.Wait()
		close(c.exited)
	}()
	c.opts.Logger.Info("private PostgreSQL starting", "dir", c.dataDir, "socket", c.sockDir, "log", logPath)
	return nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during start-up (%v): see %s", c.runErr, c.logFile.Name())
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) ensureDatabase(ctx context.Context) error {
	return CreateDatabase(ctx, c.DSN("postgres"), c.opts.Database, "")
}

// CreateDatabase creates database name through the server at adminDSN unless
// it exists, copying template when one is named.
func CreateDatabase(ctx context.Context, adminDSN, name, template string) error {
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

type binaries struct{ initdb, postgres string }

func findBinaries() (binaries, error) {
	var b binaries
	if p, err := exec.LookPath("initdb"); err == nil {
		if q, err := exec.LookPath("postgres"); err == nil {
			return binaries{p, q}, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		b = binaries{filepath.Join(d, "initdb"), filepath.Join(d, "postgres")}
		if isExecutable(b.initdb) && isExecutable(b.postgres) {
			return b, nil
		}
	}
	return binaries{}, ErrNoBinaries
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode()&0o111 != 0
}

// serverCredential returns the identity the server runs as: nil (this
// process's own) unless this process is root, then ServerUser's, created
// if missing. Its supplementary groups are none.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := ensureServerUser()
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// ensureServerUser looks ServerUser up and creates it (a system user with
// its own group, no home and no login shell) if it does not exist. Several
// processes may race to create it: useradd fails for all but one, and the
// lookup after it decides.
func ensureServerUser() (*user.User, error) {
	if u, err := user.Lookup(ServerUser); err == nil {
		return u, nil
	}
	var out []byte
	for attempt := 0; attempt < 20; attempt++ {
		cmd := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
			"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", ServerUser)
		out, _ = cmd.CombinedOutput()
		if u, err := user.Lookup(ServerUser); err == nil {
			return u, nil
		}
		time.Sleep(100 * time.Millisecond) // /etc/passwd locked by a concurrent useradd
	}
	return nil, fmt.Errorf("running as root, PostgreSQL must run as an unprivileged user, and creating %s failed: %s; create it (useradd --system --user-group %s) or set DATABASE_URL", ServerUser, strings.TrimSpace(string(out)), ServerUser)
}

// chownTo hands dirs (and everything below the first) to the server's user.
func chownTo(cred *syscall.Credential, dirs ...string) error {
	if cred == nil {
		return nil
	}
	for i, d := range dirs {
		if i == 0 {
			// A running server (one attached to) creates and removes files
			// as the walk goes, such as pg_internal.init: one gone before
			// its turn needs no owner, and what it creates is its own.
			err := filepath.Walk(d, func(p string, _ os.FileInfo, err error) error {
				if err == nil {
					err = os.Lchown(p, int(cred.Uid), int(cred.Gid))
				}
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("hand %s to uid %d: %w", d, cred.Uid, err)
			}
			// The server's user must be able to reach the folder.
			if err := grantTraverse(d, cred.Uid, cred.Gid); err != nil {
				return err
			}
			continue
		}
		if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	return nil
}

// runningServer reports whether a live server owns dataDir, and the socket
// folder it listens in (line 5 of postmaster.pid).
func runningServer(dataDir string) (sockDir string, ok bool) {
	pid, lines := readPID(dataDir)
	if pid <= 0 || syscall.Kill(pid, 0) != nil || len(lines) < 5 || lines[4] == "" {
		return "", false
	}
	return lines[4], true
}

func readPID(dataDir string) (int, []string) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, nil
	}
	lines := strings.Split(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return 0, nil
	}
	return pid, lines
}

// stopPID stops the server that owns dataDir, by the pid in its lock file.
func stopPID(dataDir string, log *slog.Logger) {
	pid, _ := readPID(dataDir)
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return
	}
	log.Info("stopping the private PostgreSQL", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGINT)
	for i := 0; i < 300 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
}
