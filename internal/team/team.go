// Package team turns an optional team passphrase into the key that closes a
// Parley network: nodes that share the passphrase authenticate their beacons,
// DNS-SD announcements, peer records and links with it; nodes without it can
// see that a closed team exists on the network but cannot join it, read it or
// inject into it.
//
// # Invitation and key
//
// A team is what its members share: an invitation, one line of text
//
//	parley-team-1:SALT:PASSPHRASE
//
// where SALT is 16 random bytes in unpadded base64url (22 characters) drawn
// when one member made the invitation (parley --new-team FILE), and
// PASSPHRASE is the rest of the line (made up by that member, or generated).
// The key is
//
//	key = Argon2id(passphrase, salt = "parley team v2" || 0x00 || SALT,
//	               time = 3, memory = 64 MiB, threads = 2, 32 bytes).
//
// Before, the salt was the constant "parley team v1": one precomputed
// dictionary of Argon2id outputs tested every Parley team in the world at once
// against the tags its members send in the clear (beacons, DNS-SD TXT
// records), and two teams that chose the same passphrase were one team
// (TestSamePassphraseDifferentTeams). With a per-team salt a guesser must
// first hold the invitation, and then works on one team at a time at
// Argon2id's cost (~0.2 s and 64 MiB per guess on a laptop core).
//
// The passphrase must still pass a strength floor (Strength, CheckPassphrase,
// documented in strength.go), so that an invitation that leaks its salt
// alone, or a team that publishes it, is not a cheap target either.
//
// # Tags
//
// A tag is HMAC-SHA256(key, domain || 0x00 || part1 || part2 …) truncated to 16
// bytes, where domain names its use ("beacon", "record", "mdns", "link-client",
// "link-server") so a tag made for one purpose is never accepted for another.
// Parts are length-delimited by the caller's fixed-size fields (public keys,
// big-endian integers, TLS exporter output), so concatenation is unambiguous.
//
// What each carries is documented where it is used: discovery (beacon TLV 2,
// mDNS TXT "team"), overlay (record extension 3, the link proof frame).
package team

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"golang.org/x/crypto/argon2"
)

// TagLen is the length of every tag.
const TagLen = 16

// Key is a derived team key. A nil *Key means an open network.
type Key struct{ k [32]byte }

// ErrEmpty refuses an empty passphrase (use no key for an open network).
var ErrEmpty = errors.New("team passphrase is empty")

// Derive computes the team key of an invitation (deliberately slow, ~0.2 s).
// It refuses a passphrase below the strength floor (ErrWeak).
func Derive(inv Invitation) (*Key, error) {
	if err := CheckPassphrase(inv.Passphrase); err != nil {
		return nil, err
	}
	salt := append([]byte("parley team v2\x00"), inv.Salt[:]...)
	var k Key
	copy(k.k[:], argon2.IDKey([]byte(inv.Passphrase), salt, 3, 64<<10, 2, 32))
	return &k, nil
}

// Tag authenticates parts for one domain.
func (k *Key) Tag(domain string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, k.k[:])
	m.Write([]byte(domain))
	m.Write([]byte{0})
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)[:TagLen]
}

// Check reports whether tag is the Tag of parts for domain (constant time).
func (k *Key) Check(tag []byte, domain string, parts ...[]byte) bool {
	return len(tag) == TagLen && hmac.Equal(tag, k.Tag(domain, parts...))
}

// Hint is a short public fingerprint of the key, shown so people can tell two
// teams on one network apart. It reveals nothing usable: it is a tag over a
// constant.
func (k *Key) Hint() string {
	return base64.RawURLEncoding.EncodeToString(k.Tag("hint")[:6])
}
