// Package team turns an optional team passphrase into the key that closes a
// Parley network: nodes that share the passphrase authenticate their beacons,
// DNS-SD announcements, peer records and links with it; nodes without it can
// see that a closed team exists on the network but cannot join it, read it or
// inject into it.
//
// # Key
//
// key = Argon2id(passphrase, salt = "parley team v1", time = 3, memory = 64 MiB,
// threads = 2, 32 bytes). The salt is fixed because every member must derive the
// same key with nothing else shared; Argon2id's memory cost is what makes
// guessing a weak passphrase from captured traffic expensive (~0.2 s and 64 MiB
// per guess on a laptop core, against nanoseconds for a plain hash).
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

// Derive computes the team key of passphrase (deliberately slow, ~0.2 s).
func Derive(passphrase string) (*Key, error) {
	if passphrase == "" {
		return nil, ErrEmpty
	}
	var k Key
	copy(k.k[:], argon2.IDKey([]byte(passphrase), []byte("parley team v1"), 3, 64<<10, 2, 32))
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
