package pgcluster

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// A private cluster answers its owner only: the socket folder and socket
// are 0700, logins need the generated password, pg_hba.conf trusts nobody,
// and another local user cannot even reach the socket. Run as root, the
// server runs as ServerUser and the 0700 folder above the data folder gets
// an ACL entry for that user alone, not o+x.
func TestClusterIsPrivate(t *testing.T) {
	t.Parallel()
	parent := t.TempDir() // 0700, like a home folder
	if err := os.Chmod(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "data", "postgres")
	ctx := context.Background()
	c, err := Start(ctx, Options{Dir: dir, Database: "colearn", Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })

	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatalf("the owner cannot connect: %v", err)
	}
	conn.Close(ctx)

	hba, err := os.ReadFile(filepath.Join(c.dataDir, "pg_hba.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(hba), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") && f[len(f)-1] == "trust" {
			t.Errorf("pg_hba.conf trusts: %q", line)
		}
	}
	wrong := strings.Replace(c.URL(), "password="+c.password, "password=wrong", 1)
	if conn, err := pgx.Connect(ctx, wrong); err == nil {
		conn.Close(ctx)
		t.Error("a wrong password was accepted")
	}
	modes := map[string]os.FileMode{
		filepath.Join(dir, passwordFile):          0o600,
		c.sockDir:                                 0o700,
		filepath.Join(c.sockDir, ".s.PGSQL.5432"): 0o700,
		dir: 0o700,
	}
	for path, want := range modes {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}

	if os.Geteuid() != 0 {
		t.Log("not root: the server runs as this user; the other-user checks need root")
		return
	}
	pid, _ := readPID(c.dataDir)
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	pgUser, err := user.Lookup(ServerUser)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "\nUid:\t"+pgUser.Uid+"\t") {
		t.Errorf("postgres (pid %d) does not run as %s (uid %s):\n%s", pid, ServerUser, pgUser.Uid, status)
	}
	if st, _ := os.Stat(parent); st.Mode().Perm()&0o007 != 0 {
		t.Errorf("%s opened to others: mode %o", parent, st.Mode().Perm())
	}

	// Another unprivileged local user, holding even the password, cannot
	// connect: the socket refuses it before any authentication.
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := findBinaries()
	if err != nil {
		t.Fatal(err)
	}
	real, err := filepath.EvalSymlinks(bin.postgres)
	if err != nil {
		t.Fatal(err)
	}
	psql := filepath.Join(filepath.Dir(real), "psql")
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	try := func(cred *syscall.Credential) (string, error) {
		cmd := exec.Command(psql, "-X", "-w", "-c", "SELECT 1", c.DSN("postgres"))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = "/"
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := try(&syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}})
	if err == nil {
		t.Fatalf("user nobody connected to the private cluster:\n%s", out)
	}
	if !strings.Contains(out, "Permission denied") {
		t.Errorf("nobody was refused, but not by the socket's permissions:\n%s", out)
	}
	// The same command as the owner works, so the refusal is the socket's.
	if out, err := try(nil); err != nil {
		t.Fatalf("psql as root: %v\n%s", err, out)
	}
}

// A second process attaches to the running cluster with the password from
// the folder, and a cluster made before passwords (trust) is upgraded.
func TestAttachAndUpgradeFromTrust(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "pg")
	ctx := context.Background()
	first, err := Start(ctx, Options{Dir: dir, Database: "colearn", Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Start(ctx, Options{Dir: dir, Database: "other", Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	if !second.attached {
		t.Error("the second Start did not attach to the running server")
	}
	conn, err := pgx.Connect(ctx, second.URL())
	if err != nil {
		t.Fatalf("attached process cannot connect: %v", err)
	}
	conn.Close(ctx)
	second.Stop()
	first.Stop()

	// Turn it back into an old trust cluster, then start it again.
	hba := filepath.Join(first.dataDir, "pg_hba.conf")
	b, err := os.ReadFile(hba)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hba, []byte(strings.ReplaceAll(string(b), "scram-sha-256", "trust")), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Start(ctx, Options{Dir: dir, Database: "colearn", Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if b, _ := os.ReadFile(hba); trustLine.Match(b) {
		t.Fatalf("pg_hba.conf still trusts after the upgrade:\n%s", b)
	}
	wrong := strings.Replace(c.URL(), "password="+c.password, "password=wrong", 1)
	if conn, err := pgx.Connect(ctx, wrong); err == nil {
		conn.Close(ctx)
		t.Fatal("a wrong password was accepted after the upgrade")
	}
	if conn, err := pgx.Connect(ctx, c.URL()); err != nil {
		t.Fatalf("the owner cannot connect after the upgrade: %v", err)
	} else {
		conn.Close(ctx)
	}
}
