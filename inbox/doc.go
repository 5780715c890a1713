// Package inbox receives activities: the per-actor and shared inbox
// endpoints verify each request's HTTP signature, check that the signer
// speaks for the activity's actor and that the activity's id is on the
// actor's origin, drop duplicates by activity id, and store what they accept.
// Activity types colearn does not know are acknowledged and ignored.
package inbox
