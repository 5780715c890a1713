package migrations_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/colearn/colearn/internal/pgcluster"
	"github.com/colearn/colearn/internal/pgtest"
	"github.com/colearn/colearn/migrations"
)

// Lessons stored before the syllabus existed become revision 1 of their
// module, credited to the course's owner and their server.
func TestSyllabusMigratesExistingLessons(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := pgtest.AdminDSN()
	name := fmt.Sprintf("syllabus_%d", os.Getpid())
	if err := pgcluster.CreateDatabase(ctx, admin, name, ""); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, strings.Replace(admin, "dbname=postgres", "dbname="+name, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO handles (name, kind) VALUES ('olga', 'user'), ('intro', 'course')`,
		`INSERT INTO users (username, display_name, password_hash) VALUES ('olga', 'Olga', 'x')`,
		`INSERT INTO courses (slug, owner_id, title) SELECT 'intro', id, 'Intro' FROM users`,
		`INSERT INTO course_members (course_id, actor_iri, name, role, state, via) SELECT id, 'https://learn.example/users/olga', 'Olga', 'owner', 'accepted', 'local' FROM courses`,
		`INSERT INTO modules (course_id, position, title, body) SELECT id, 1, 'Old lesson', 'Written **before**' FROM courses`,
		`INSERT INTO modules (course_id, position, title, body) SELECT id, 2, 'Second', '' FROM courses`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("migrate to the syllabus: %v", err)
	}
	rows, err := pool.Query(ctx, `SELECT m.title, m.revision, r.number, r.body, r.author_iri, r.author_name, r.author_server, r.change, r.position
		FROM modules m JOIN module_revisions r ON r.module_id = m.id ORDER BY m.position`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var title, body, iri, author, server, change string
		var rev, number, pos int
		if err := rows.Scan(&title, &rev, &number, &body, &iri, &author, &server, &change, &pos); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s r%d/%d %q %s %s %s %s @%d", title, rev, number, body, iri, author, server, change, pos))
	}
	want := []string{
		`Old lesson r1/1 "Written **before**" https://learn.example/users/olga Olga https://learn.example created @1`,
		`Second r1/1 "" https://learn.example/users/olga Olga https://learn.example created @2`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("after the migration:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
