// Package federation speaks ActivityPub's transport for colearn: the IRIs of
// local actors, their RSA and Ed25519 keys, actor documents, HTTP signatures
// (draft-cavage-12, Mastodon-compatible) for signing and verifying, the
// SSRF-safe signed HTTP client, WebFinger, host-meta and NodeInfo, and the
// resolution and caching of remote actors.
//
// It knows nothing of what activities mean; that is the inbox's and the
// domain's business.
package federation
