// Package credential makes and checks Verifiable Credentials 2.0 (Open
// Badges 3.0) proofs: the DataIntegrityProof with the eddsa-rdfc-2022
// cryptosuite, RDF Dataset Canonicalization (URDNA2015) through json-gold
// over JSON-LD contexts embedded in the binary (never fetched), did:key and
// Multikey verification methods, and the W3C Bitstring Status List used for
// revocation.
//
// Everything a remote party sends is hostile: documents are parsed with size,
// depth and duplicate-key limits, contexts resolve only from the embedded
// set, and a verification reports each check with its outcome rather than a
// bare yes or no.
package credential
