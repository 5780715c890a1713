// Package courses is colearn's domain: local accounts today, and courses,
// modules, members, circles and badges as they arrive. It decides the rules
// (who may sign up, what a valid username is) and stores the result in
// PostgreSQL.
//
// Methods that change several rows take the pgx.Tx they run in, so that the
// caller can commit a domain change together with what it causes (federation
// keys, deliveries). When such a method returns an error the caller must roll
// the transaction back. Read-only and single-statement methods use the pool.
//
// Errors are the sentinels in errors.go and *ValidationError, always wrapped
// with context: test them with errors.Is and errors.As.
package courses
