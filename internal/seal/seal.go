// Package seal signs and encrypts one message from a sender to a single
// recipient, so that peers who relay it (multi-hop forwarding) or hold it for
// an absent recipient (custody) can neither read it nor forge it.
//
// A relay can still learn who talks to whom and how much: the sender's public
// key, the recipient's peer ID and the ciphertext length are in the clear, and
// [Inspect] lets relays check them. Nothing else about the plaintext leaks.
//
// # Keys
//
// No extra keys are published. Every peer already has an Ed25519 identity key
// (package identity); its X25519 key is derived from it:
//
//   - public: the Ed25519 public key is decoded as an edwards25519 point and
//     mapped to the birationally equivalent Montgomery curve; its u-coordinate
//     (RFC 7748 encoding) is the X25519 public key.
//   - private: the first 32 bytes of SHA-512(Ed25519 seed), clamped as X25519
//     always clamps. That is exactly the Ed25519 secret scalar, so the two
//     derivations agree: X25519(priv, 9) == Montgomery(Ed25519 public key).
//
// Using one key pair for both Ed25519 signatures and X25519 key agreement is
// the construction analysed by Thormarker, "On using the same key pair for
// Ed25519 and an X25519 based KEM" (2021), which finds it secure; libsodium's
// crypto_sign_ed25519_pk_to_curve25519 is the same map.
//
// # Envelope format, version 2
//
// All integers are big-endian. Offsets are in bytes; L is the ciphertext
// length and n = L-16 the plaintext length.
//
//	offset   size  field
//	0        1     version, 0x02
//	1        32    sender Ed25519 public key (canonical encoding)
//	33       16    recipient peer ID = SHA-256(recipient Ed25519 public key)[:16]
//	49       32    enc: the HPKE encapsulated key (an ephemeral X25519 public key)
//	81       4     L, ciphertext length, uint32; 16 <= L <= MaxPlaintext+16
//	85       L     ciphertext: HPKE Seal(aad, plaintext) = n bytes + 16-byte tag
//	85+L     64    Ed25519ctx signature (context "parley seal v2",
//	               identity.ContextSeal) by the sender over bytes [0, 85+L)
//
// The total size is therefore exactly 165+n bytes ([Overhead] = 165); an
// envelope with trailing bytes is malformed. So is one whose sender key is not
// the canonical encoding of a curve point, or is a point of small order: such
// a key "verifies" signatures nobody made (with the identity point, any R=[S]B
// passes), and a non-canonical encoding would give one key two peer IDs.
// Honestly generated keys are never either.
//
// The encryption is HPKE (RFC 9180, Go's crypto/hpke) in base mode, one
// message per context:
//
//	KEM  = DHKEM(X25519, HKDF-SHA256) to the recipient's X25519 key
//	KDF  = HKDF-SHA256, AEAD = AES-256-GCM
//	info = "parley seal v2"
//	aad  = bytes [0, 85), the whole header before the ciphertext
//
// HPKE's key schedule binds the encapsulated key and the recipient's public
// key (its KEM context), and gives each context its own key and nonce, which
// is what version 1 built by hand (below).
//
// # Version 1 (read only)
//
// Version 1 has the same layout with version 0x01, a plain Ed25519 signature
// (no context), and a hand-made KEM: shared = X25519(ephemeral, recipient);
// key = HKDF-SHA256(shared, salt = ephemeral public || recipient X25519
// public, info = "parley seal v1", 32 bytes); AES-256-GCM with a zero nonce
// and the header as aad. Seal no longer writes it; Open and Inspect still
// accept it so that envelopes sealed before the upgrade and still waiting in
// outboxes and custody (both keep sealed envelopes on disk) are delivered.
// Accepting it costs little: after the upgrade a key makes no plain Ed25519
// signature over anything starting with byte 0x01 (every Parley signature
// has a context; the TLS certificate's and handshake's plain signatures cover
// DER, which starts 0x30, and TLS 1.3 CertificateVerify content, which starts
// with 64 spaces), so no new signature can be re-framed as a v1 envelope.
// Records signed before the upgrade still can (overlay.TestRecordIsNotAnEnvelope
// shows how); such a thing never decrypts, so the worst it does is occupy a
// custodian's slot. A later release drops version 1 (parseV1 and decryptV1).
//
// # Why it is built this way
//
// The signature is over the ciphertext rather than the plaintext
// (encrypt-then-sign) so that relays and custodians, who cannot decrypt, can
// still verify it with [Inspect] and drop forgeries before storing or
// forwarding them. The signature covers the header too, so a relay cannot
// re-address an envelope or swap in its own encapsulated key. Its context
// keeps it from being any other kind of signature by the same key (a record,
// a beacon, a file offer), and theirs from being an envelope.
//
// Encrypt-then-sign alone would let a relay strip the sender's signature,
// put its own public key in the header and re-sign, passing off somebody
// else's (unread) message as its own. That is prevented by the AAD: the
// sender's public key is part of the header the AEAD tag authenticates, and
// the relay cannot recompute the tag without the key, so the recipient's
// decryption of such an envelope fails. The recipient public key is bound
// into the key derivation (HPKE's KEM context), so the 16-byte recipient ID
// is only a routing label, not what the security rests on.
//
// [Open] checks cheap things first: the structure, then the signature (a
// forgery is rejected before any Diffie-Hellman work), then that the envelope
// is addressed to us, then decrypts.
//
// # What it does not do, and what a stolen key reveals
//
// There is no replay protection: a relay can deliver the same envelope twice,
// and the layer above must de-duplicate (for example by message ID inside
// the plaintext). There is no deniability: the sender's signature proves
// authorship of the ciphertext to anyone.
//
// There is no forward secrecy: an envelope is encrypted to the recipient's
// long-term identity key (HPKE base mode; the ephemeral key is the sender's
// only). Whoever steals a node's identity key (the identity.key file) can
// decrypt every envelope ever sealed to that node that they captured or can
// still fetch (custodians hold them up to 7 days), impersonate the node from
// then on (sign records, envelopes, offers; answer for its peer ID in TLS),
// and read whatever arrives for it until its contacts learn of the theft (a
// new key is a new peer ID; the old one must be blocked). It does not reveal
// what the node sent to others (sealed to their keys), nor, by itself, a
// closed team's key. Rotating signed prekeys published in records would bound
// the first harm to a prekey's lifetime; that is not built (see
// docs/security.md).
package seal

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"

	"filippo.io/edwards25519"

	"parley/identity"
)

// Version is the envelope format version Seal writes. Open and Inspect also
// read version 1 (see the package documentation).
const Version = 2

// versionV1 is the read-only legacy format.
const versionV1 = 1

// Layout of an envelope (both versions); see the package documentation.
const (
	offVersion   = 0
	offSender    = offVersion + 1
	offRecipient = offSender + ed25519.PublicKeySize
	offEphemeral = offRecipient + identity.IDLen
	offLength    = offEphemeral + x25519KeySize
	headerLen    = offLength + 4 // 85

	x25519KeySize = 32
	tagSize       = 16 // AES-GCM tag
	keySize       = 32 // AES-256
	nonceSize     = 12 // AES-GCM standard nonce
	sigSize       = ed25519.SignatureSize
)

// Overhead is the number of bytes an envelope adds to its plaintext.
const Overhead = headerLen + tagSize + sigSize // 165

// MaxPlaintext is the largest plaintext Seal accepts and Open decrypts.
const MaxPlaintext = 1 << 20

// MaxEnvelope is the size of an envelope carrying MaxPlaintext bytes.
const MaxEnvelope = MaxPlaintext + Overhead

// hpkeInfo is HPKE's info string for version 2: it separates Parley's
// envelopes from any other HPKE use of the same X25519 key.
const hpkeInfo = "parley seal v2"

// The version 2 cipher suite (the KEM is DHKEM(X25519) through the keys).
var (
	hpkeKDF  = hpke.HKDFSHA256()
	hpkeAEAD = hpke.AES256GCM()
)

var (
	// ErrMalformed: the envelope is not structurally valid (size, version,
	// length field, or sender key encoding).
	ErrMalformed = errors.New("seal: malformed envelope")
	// ErrSignature: the sender's signature does not verify.
	ErrSignature = errors.New("seal: bad signature")
	// ErrNotForMe: the envelope is validly signed but addressed to another peer.
	ErrNotForMe = errors.New("seal: envelope addressed to another peer")
	// ErrDecrypt: the envelope is signed and addressed to us but does not
	// decrypt (tampered ciphertext, wrong key, or a degenerate ephemeral key).
	ErrDecrypt = errors.New("seal: decryption failed")
	// ErrTooLarge: Seal was given more than MaxPlaintext bytes.
	ErrTooLarge = errors.New("seal: plaintext too large")
	// ErrBadKey: a key passed to Seal or Open is unusable (wrong size, not a
	// curve point, or of small order).
	ErrBadKey = errors.New("seal: unusable key")
)

// Opened is the result of a successful Open.
type Opened struct {
	// Sender is the Ed25519 public key that signed the envelope.
	Sender ed25519.PublicKey
	// SenderID is identity.IDFromPublicKey(Sender).
	SenderID identity.PeerID
	// Plaintext is the decrypted message.
	Plaintext []byte
}

// Seal signs plaintext as sender and encrypts it to recipient (an Ed25519
// identity public key) in a version 2 envelope. The result is
// len(plaintext)+Overhead bytes.
func Seal(sender *identity.Identity, recipient ed25519.PublicKey, plaintext []byte) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(plaintext), MaxPlaintext)
	}
	if sender == nil || len(sender.Private) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: sender identity has no private key", ErrBadKey)
	}
	// The header carries the public half of the key that actually signs, so a
	// stale Public field cannot produce an envelope that fails to verify.
	signer := &identity.Identity{Private: sender.Private, Public: sender.Private.Public().(ed25519.PublicKey)}
	recipientX, err := x25519Public(recipient)
	if err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	pk, err := hpke.NewDHKEMPublicKey(recipientX)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	enc, ctx, err := hpke.NewSender(pk, hpkeKDF, hpkeAEAD, []byte(hpkeInfo))
	if err != nil { // all-zero shared secret: recipient key of small order
		return nil, fmt.Errorf("%w: recipient key agreement: %v", ErrBadKey, err)
	}
	if len(enc) != x25519KeySize {
		return nil, fmt.Errorf("seal: hpke enc is %d bytes, want %d", len(enc), x25519KeySize)
	}
	recipientID := identity.IDFromPublicKey(recipient)
	env := make([]byte, headerLen, len(plaintext)+Overhead)
	env[offVersion] = Version
	copy(env[offSender:], signer.Public)
	copy(env[offRecipient:], recipientID[:])
	copy(env[offEphemeral:], enc)
	binary.BigEndian.PutUint32(env[offLength:], uint32(len(plaintext)+tagSize))
	ct, err := ctx.Seal(env[:headerLen], plaintext)
	if err != nil {
		return nil, fmt.Errorf("seal: hpke: %w", err)
	}
	env = append(env, ct...)
	return append(env, signer.SignContext(identity.ContextSeal, env)...), nil
}

// Open verifies and decrypts an envelope addressed to recipient. It checks, in
// order: structure (ErrMalformed), the sender's signature (ErrSignature), that
// the envelope is addressed to recipient (ErrNotForMe), and decryption
// (ErrDecrypt). On success Opened.Sender is the authenticated sender.
//
// Open derives the recipient's X25519 key on every call; an [Opener] does it
// once.
func Open(recipient *identity.Identity, envelope []byte) (Opened, error) {
	p, err := parse(envelope)
	if err != nil {
		return Opened{}, err
	}
	if !p.verify() {
		return Opened{}, ErrSignature
	}
	if recipient == nil || len(recipient.Private) != ed25519.PrivateKeySize {
		return Opened{}, fmt.Errorf("%w: recipient identity has no private key", ErrBadKey)
	}
	id := identity.IDFromPublicKey(recipient.Private.Public().(ed25519.PublicKey))
	if p.recipient != id {
		return Opened{}, ErrNotForMe // before the costly key derivation
	}
	o, err := NewOpener(recipient)
	if err != nil {
		return Opened{}, err
	}
	return o.openParsed(&p)
}

// Opener opens envelopes for one recipient with its X25519 key derived once,
// which saves a scalar multiplication (about a third of Open's cost) per
// envelope. It is safe for concurrent use.
type Opener struct {
	id   identity.PeerID
	priv *ecdh.PrivateKey // version 1
	kem  hpke.PrivateKey  // version 2: the same key for HPKE
}

// NewOpener prepares to open envelopes addressed to recipient.
func NewOpener(recipient *identity.Identity) (*Opener, error) {
	if recipient == nil || len(recipient.Private) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: recipient identity has no private key", ErrBadKey)
	}
	// Derive everything from the private key, the one field that must be right.
	pub := recipient.Private.Public().(ed25519.PublicKey)
	priv := x25519Private(recipient.Private)
	kem, err := hpke.NewDHKEMPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return &Opener{id: identity.IDFromPublicKey(pub), priv: priv, kem: kem}, nil
}

// Open is [Open] with the precomputed key.
func (o *Opener) Open(envelope []byte) (Opened, error) {
	p, err := parse(envelope)
	if err != nil {
		return Opened{}, err
	}
	if !p.verify() {
		return Opened{}, ErrSignature
	}
	return o.openParsed(&p)
}

// openParsed finishes Open for an envelope whose structure and signature have
// been checked.
func (o *Opener) openParsed(p *parsed) (Opened, error) {
	if p.recipient != o.id {
		return Opened{}, ErrNotForMe
	}
	var pt []byte
	var err error
	if p.version == versionV1 {
		pt, err = p.decryptV1(o.priv)
	} else {
		pt, err = p.decrypt(o.kem)
	}
	if err != nil {
		return Opened{}, err
	}
	sender := bytes.Clone(p.sender)
	return Opened{Sender: sender, SenderID: identity.IDFromPublicKey(sender), Plaintext: pt}, nil
}

// Inspect returns what a relay or custodian may learn from an envelope: who
// sent it and to whom. It verifies the sender's signature, so a nil error
// means the envelope really comes from senderID, but it cannot decrypt and
// does not check that the ciphertext will decrypt.
func Inspect(envelope []byte) (senderID, recipientID identity.PeerID, err error) {
	p, err := parse(envelope)
	if err != nil {
		return senderID, recipientID, err
	}
	if !p.verify() {
		return senderID, recipientID, ErrSignature
	}
	return identity.IDFromPublicKey(p.sender), p.recipient, nil
}

// parsed holds views into a structurally valid envelope.
type parsed struct {
	version    byte
	signed     []byte // header || ciphertext: what the signature covers
	header     []byte // the AEAD's additional data
	sender     ed25519.PublicKey
	recipient  identity.PeerID
	ephemeral  []byte // v2: HPKE enc
	ciphertext []byte
	sig        []byte
}

// parse checks the envelope's structure. Every length is validated against
// the actual size before it is used, so hostile input cannot cause a panic or
// a large allocation.
func parse(env []byte) (parsed, error) {
	var p parsed
	if len(env) < Overhead {
		return p, fmt.Errorf("%w: %d bytes, minimum %d", ErrMalformed, len(env), Overhead)
	}
	if v := env[offVersion]; v != Version && v != versionV1 {
		return p, fmt.Errorf("%w: version %d, want %d (or %d)", ErrMalformed, v, Version, versionV1)
	}
	ctLen := binary.BigEndian.Uint32(env[offLength:headerLen])
	if ctLen < tagSize || ctLen > MaxPlaintext+tagSize {
		return p, fmt.Errorf("%w: ciphertext length %d out of range", ErrMalformed, ctLen)
	}
	// ctLen <= 1<<20+16, so this cannot overflow an int.
	if want := headerLen + int(ctLen) + sigSize; len(env) != want {
		return p, fmt.Errorf("%w: %d bytes, length field implies %d", ErrMalformed, len(env), want)
	}
	p.sender = ed25519.PublicKey(env[offSender:offRecipient])
	if err := checkSenderKey(p.sender); err != nil {
		return parsed{}, err
	}
	end := headerLen + int(ctLen)
	p.version = env[offVersion]
	p.signed = env[:end]
	p.header = env[:headerLen]
	copy(p.recipient[:], env[offRecipient:offEphemeral])
	p.ephemeral = env[offEphemeral:offLength]
	p.ciphertext = env[headerLen:end]
	p.sig = env[end:]
	return p, nil
}

// verify checks the sender's signature: Ed25519ctx for version 2, plain
// Ed25519 for the legacy version 1.
func (p *parsed) verify() bool {
	if p.version == versionV1 {
		return ed25519.Verify(p.sender, p.signed, p.sig)
	}
	return identity.VerifyContext(p.sender, identity.ContextSeal, p.signed, p.sig)
}

// decrypt opens a version 2 ciphertext with the recipient's HPKE key. It
// checks nothing else: Open calls it only after the signature and recipient
// ID have been verified.
func (p *parsed) decrypt(kem hpke.PrivateKey) ([]byte, error) {
	// NewRecipient refuses a low-order enc (its X25519 output would be zero).
	ctx, err := hpke.NewRecipient(p.ephemeral, kem, hpkeKDF, hpkeAEAD, []byte(hpkeInfo))
	if err != nil {
		return nil, fmt.Errorf("%w: key agreement: %v", ErrDecrypt, err)
	}
	pt, err := ctx.Open(p.header, p.ciphertext)
	if err != nil {
		return nil, ErrDecrypt
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// checkSenderKey rejects sender keys that are not canonical encodings of
// curve points, or are of small order. A small-order key "verifies"
// signatures its holder never made (anyone can produce them), and a
// non-canonical encoding would give one point two peer IDs. Honest keys are
// never either.
func checkSenderKey(pub ed25519.PublicKey) error {
	if _, err := edPoint(pub); err != nil {
		return fmt.Errorf("%w: sender key: %v", ErrMalformed, err)
	}
	return nil
}

// edPoint decodes an Ed25519 public key, insisting on a canonical encoding of
// a point that is not of small order.
func edPoint(pub ed25519.PublicKey) (*edwards25519.Point, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	pt, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return nil, errors.New("public key is not a curve point")
	}
	if !bytes.Equal(pt.Bytes(), pub) {
		return nil, errors.New("public key encoding is not canonical")
	}
	if new(edwards25519.Point).MultByCofactor(pt).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return nil, errors.New("public key has small order")
	}
	return pt, nil
}

// x25519Public converts an Ed25519 public key to the X25519 public key of the
// same key pair (the Montgomery u-coordinate of the point).
func x25519Public(pub ed25519.PublicKey) (*ecdh.PublicKey, error) {
	pt, err := edPoint(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	xpub, err := ecdh.X25519().NewPublicKey(pt.BytesMontgomery())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return xpub, nil
}

// x25519Private converts an Ed25519 private key to the X25519 private key of
// the same key pair: SHA-512(seed)[:32], which X25519 clamps exactly as
// Ed25519 does. priv must be ed25519.PrivateKeySize bytes.
func x25519Private(priv ed25519.PrivateKey) *ecdh.PrivateKey {
	h := sha512.Sum512(priv.Seed())
	defer clear(h[:])
	xpriv, err := ecdh.X25519().NewPrivateKey(h[:x25519KeySize])
	if err != nil {
		// NewPrivateKey accepts every 32-byte string for X25519.
		panic("seal: X25519 rejected a 32-byte private key: " + err.Error())
	}
	return xpriv
}
