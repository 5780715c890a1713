// Package outbox sends colearn's activities: Publish stores an activity once
// and, in the caller's transaction, enqueues one fan-out job; the fan-out job
// expands course members into distinct inboxes (shared inboxes preferred) and
// enqueues one delivery job per inbox in a single batch; each delivery job
// reads the stored body, signs it with the sending actor's key at delivery
// time and POSTs it. Jobs live in River's tables in the same PostgreSQL, so
// killing the process at any moment loses no delivery.
//
// Failures follow the fediverse's habits: 429, 5xx and network errors retry
// with exponential backoff and jitter for about two days (Retry-After is
// honoured), other 4xx give up at once, 410 Gone reports the inbox through
// Config.GoneFunc, and a host that keeps failing is paused by a circuit
// breaker (table delivery_hosts) instead of being hammered.
//
// The package also serves actors' outbox collections (Collection).
package outbox
