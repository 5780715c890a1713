// Command colearn runs a colearn instance and administers it.
//
//	colearn serve              run the instance
//	colearn worker             deliver and process activities, no HTTP
//	colearn migrate            apply database migrations and exit
//	colearn user create        create an account (password on stdin)
//	colearn course create      create a course
//	colearn instance set|show  set or show the instance's name, description, contact, rules
//	colearn course export      write a course archive
//	colearn course import      create a course from an archive
//	colearn module             list, show, add and edit modules
//	colearn domain ...         block, unblock and list blocked servers
//	colearn achievement        define and list a course's badges
//	colearn badge              award, revoke and verify badges
//	colearn healthcheck        probe a running instance's /healthz
//	colearn version            print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is the release, set with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `colearn — a federated peer-learning server

Usage:
  colearn serve [flags]                      run the instance
  colearn worker [flags]                     deliver and process activities without
                                             serving HTTP (scale delivery out)
  colearn migrate [flags]                    apply database migrations and exit
  colearn user create --username NAME [--admin] [--display-name NAME]
                                             create an account; the password is
                                             read from stdin (or prompted for)
  colearn course create --owner USERNAME --slug SLUG --title TITLE [flags]
                                             create a course (a fediverse group)
  colearn instance set [--name N] [--description D] [--contact C] [--rules-file F]
  colearn instance show                      set or show the instance's identity
  colearn course export SLUG                 write the course as one archive to stdout
  colearn course import --owner USERNAME FILE
                                             create a course from an archive
  colearn module list|show|add|edit --course SLUG [flags]
                                             work on a course's syllabus
  colearn domain block HOST [--reason TEXT]  block a server for the whole instance
  colearn domain unblock HOST                lift a domain block
  colearn domain list                        list the domain blocks
  colearn achievement create|list --course SLUG [flags]
                                             define or list a course's badges
  colearn badge award|revoke|complete|verify [flags]
                                             issue, revoke and verify Open Badges
  colearn healthcheck                        exit 0 if the local instance is healthy
  colearn version                            print the version

Run "colearn COMMAND --help" for the flags of a command. Every flag can also be
set by the environment variable shown in its help.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "colearn:", err)
		os.Exit(1)
	}
}

// run dispatches a command line; it is main without the process around it,
// so tests can call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serveCommand(ctx, args[1:], stderr)
	case "worker":
		return workerCommand(ctx, args[1:], stderr)
	case "migrate":
		return migrateCommand(ctx, args[1:], stdout, stderr)
	case "user":
		return userCommand(ctx, args[1:], stdin, stdout, stderr)
	case "course":
		return courseCommand(ctx, args[1:], stdout, stderr)
	case "instance":
		return instanceCommand(ctx, args[1:], stdin, stdout, stderr)
	case "module":
		return moduleCommand(ctx, args[1:], stdout, stderr)
	case "domain":
		return domainCommand(ctx, args[1:], stdout, stderr)
	case "achievement":
		return achievementCommand(ctx, args[1:], stdout, stderr)
	case "badge":
		return badgeCommand(ctx, args[1:], stdin, stdout, stderr)
	case "invitation":
		return invitationCommand(ctx, args[1:], stdout, stderr)
	case "healthcheck":
		return healthcheckCommand(ctx, args[1:], stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "colearn", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
