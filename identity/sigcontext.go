package identity

import (
	"crypto"
	"crypto/ed25519"
)

// Context names the one use a signature by an identity key is made for. Every
// signature Parley makes with an identity key is Ed25519ctx (RFC 8032 §5.1) with
// one of these as its context string: the context is hashed into the signature,
// so a signature made for one use does not verify for any other, nor as a plain
// Ed25519 signature (which is what TLS and X.509 use with the same key, and what
// version 1 envelopes used before contexts existed).
//
// Before contexts, records and envelopes were both plain Ed25519 over bytes that
// begin with version 1 and the signer's key, and a crafted record passed
// seal.Inspect as an envelope from its author
// (overlay.TestRecordIsNotAnEnvelope).
type Context string

// The contexts in use. A format that changes what its signature covers gets a
// new context (a new version suffix), never a reused one. TestContextsDistinct
// checks they are unique and do not cross-verify.
const (
	// ContextRecord signs a peer record (package overlay).
	ContextRecord Context = "parley record v1"
	// ContextBeacon signs a discovery beacon (package discovery).
	ContextBeacon Context = "parley beacon v1"
	// ContextSeal signs a version 2 sealed envelope (package internal/seal).
	ContextSeal Context = "parley seal v2"
	// ContextFileOffer signs a file offer (package files).
	ContextFileOffer Context = "parley file offer v1"
	// ContextAlert signs an all-hands alert (package urgent).
	ContextAlert Context = "parley alert v1"
	// ContextPTT signs a push-to-talk frame (package talkgroup).
	ContextPTT Context = "parley ptt v1"
	// ContextCostMap signs an administrator's cost map (package selection).
	ContextCostMap Context = "parley cost map v1"
)

// Contexts lists every registered context (the test walks it).
var Contexts = []Context{ContextRecord, ContextBeacon, ContextSeal, ContextFileOffer, ContextAlert, ContextPTT, ContextCostMap}

// SignContext signs msg for ctx with the identity key (Ed25519ctx).
func (id *Identity) SignContext(ctx Context, msg []byte) []byte {
	sig, err := id.Private.Sign(nil, msg, &ed25519.Options{Hash: crypto.Hash(0), Context: string(ctx)})
	if err != nil {
		// Only a context over 255 bytes or a malformed key can fail; the
		// contexts are constants and the key is checked when it is loaded.
		panic("identity: sign: " + err.Error())
	}
	return sig
}

// VerifyContext reports whether sig is pub's signature of msg for ctx.
func VerifyContext(pub ed25519.PublicKey, ctx Context, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.VerifyWithOptions(pub, msg, sig, &ed25519.Options{Hash: crypto.Hash(0), Context: string(ctx)}) == nil
}
