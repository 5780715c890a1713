package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/term"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// createAccount creates an account with create (Register or CreateUser) and
// its actor keys, committing both or neither.
func createAccount(ctx context.Context, pool *pgxpool.Pool, keys *federation.KeyStore, nu courses.NewUser,
	create func(context.Context, pgx.Tx, courses.NewUser) (courses.User, error)) (courses.User, error) {
	var u courses.User
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		if u, err = create(ctx, tx, nu); err != nil {
			return err
		}
		_, err = keys.Create(ctx, tx, u.Username)
		return err
	})
	return u, err
}

func userCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "Usage: colearn user create --username NAME [--admin] [--display-name NAME]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("unknown user command")
	}
	var c config
	fs := newFlagSet("user create", "user create --username NAME [--admin] [--display-name NAME]\n\nThe password is read from standard input when it is not a terminal, else prompted for.", stderr)
	databaseFlags(fs, &c)
	username := fs.String("username", "", "the account's username (its handle: @username@host)")
	admin := fs.Bool("admin", false, "make the account an instance admin")
	display := fs.String("display-name", "", "the name shown on the profile")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *username == "" {
		fs.Usage()
		return errors.New("--username is required")
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	_, pool, closeDB, err := connect(ctx, c, stderr, false)
	if err != nil {
		return err
	}
	defer closeDB()
	store := courses.NewStore(pool)
	u, err := createAccount(ctx, pool, federation.NewKeyStore(pool),
		courses.NewUser{Username: *username, Password: password, DisplayName: *display, IsAdmin: *admin},
		store.CreateUser)
	if err != nil {
		return fmt.Errorf("create user %q: %w", *username, err)
	}
	role := "user"
	if u.IsAdmin {
		role = "admin"
	}
	fmt.Fprintf(stdout, "created %s %s\n", role, u.Username)
	return nil
}

// readPassword reads one line from stdin, or prompts twice without echo
// when stdin is a terminal. Passwords are never taken from flags, which
// would leave them in shell history and the process list.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Repeat password: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("the passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on stdin")
	}
	return line, nil
}
