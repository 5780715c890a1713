package main

import (
	"context"
	"fmt"
	"io"
)

func migrateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := newFlagSet("migrate", "migrate [flags]", stderr)
	databaseFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(c.LogLevel, stderr)
	if err != nil {
		return err
	}
	// openDatabase applies the migrations.
	_, closeDB, err := openDatabase(ctx, c, log, false)
	if err != nil {
		return err
	}
	closeDB()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}
