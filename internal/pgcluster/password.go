package pgcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// readOrCreatePassword returns the password kept in path, generating one
// (256 random bits, hex) and writing it with mode 0600 when the file does
// not exist. A file readable by others is made private again.
func readOrCreatePassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		buf := make([]byte, 32)
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate the PostgreSQL password: %w", err)
		}
		pw := hex.EncodeToString(buf)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, os.ErrExist) {
			return readOrCreatePassword(path) // another process won the race
		}
		if err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
		_, werr := f.WriteString(pw + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
		return pw, nil
	}
	if err != nil {
		return "", fmt.Errorf("read the PostgreSQL password: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return "", err
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" || strings.ContainsAny(pw, " '\\\n") {
		return "", fmt.Errorf("%s does not hold a usable password", path)
	}
	return pw, nil
}

// trustLine matches an active pg_hba.conf line whose method is trust.
var trustLine = regexp.MustCompile(`(?m)^([^#\n]*\S\s+)trust(\s*(?:#.*)?)$`)

// requirePasswords upgrades a cluster made before passwords were required
// (initdb --auth=trust): while trust still lets it in, it sets the
// superuser's password, then switches every trust line of pg_hba.conf to
// scram-sha-256 and reloads the server.
func (c *Cluster) requirePasswords(ctx context.Context) error {
	hba := filepath.Join(c.dataDir, "pg_hba.conf")
	b, err := os.ReadFile(hba)
	if err != nil {
		return fmt.Errorf("read pg_hba.conf: %w", err)
	}
	if !trustLine.Match(b) {
		return nil
	}
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	// ALTER ROLE takes no parameters; the password is hex.
	if _, err := conn.Exec(ctx, "ALTER ROLE "+superuser+" PASSWORD '"+c.password+"'"); err != nil {
		return fmt.Errorf("set the superuser's password: %w", err)
	}
	st, err := os.Stat(hba)
	if err != nil {
		return err
	}
	if err := os.WriteFile(hba, trustLine.ReplaceAll(b, []byte("${1}scram-sha-256${2}")), st.Mode().Perm()); err != nil {
		return fmt.Errorf("write pg_hba.conf: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return fmt.Errorf("reload pg_hba.conf: %w", err)
	}
	c.opts.Logger.Info("private PostgreSQL now requires its password", "dir", c.dataDir)
	return nil
}
