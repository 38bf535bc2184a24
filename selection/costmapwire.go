package selection

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"

	"parley/identity"
)

// # Signed cost-map wire format
//
// The administrator's cost map travels as peer-record extension type 8
// (RecordExtCostMap) in the record of the member who signs it; every node that
// trusts that member's key adopts the newest map it verifies. All integers are
// big-endian.
//
//	offset  size  field
//	0       1     version = 1
//	1       32    signer's Ed25519 public key
//	33      8     issued: Unix time in milliseconds (u64); the newest map wins
//	41      1     entry count N, 1 ≤ N ≤ MaxSignedMapEntries (64)
//	42      ..    N entries, each:
//	                1   family of both prefixes: 4 (IPv4) or 6 (IPv6)
//	                4|16  address a, then 1 byte its prefix length (≤ 32|128)
//	                4|16  address b, then 1 byte its prefix length
//	                4   cost in µs-equivalent (u32, ≤ MaxMapCost·1000)
//	..      64    Ed25519ctx signature (RFC 8032), context "parley cost map v1"
//	              (identity.ContextCostMap), by the key at offset 1, over every
//	              byte before it
//
// An entry is 15 bytes for IPv4, 39 for IPv6; a map is at most 42 + 64·39 + 64
// = 2,602 bytes (MaxSignedMapLen), well inside a record (16 KiB). Host bits of a
// prefix must be zero and an entry's pair of prefixes (in either order) may appear
// once, as ParseCostMap requires of the file; both prefixes of an entry share a
// family (a file entry mixing them matches no pair of addresses, and is refused).
// Anything else — a short or long buffer, another version, trailing bytes, a bad
// signature — is refused whole: half a map would cost paths the administrator
// did not mean to cost.

const (
	signedMapVersion = 1
	// MaxSignedMapEntries bounds a signed map: enough for a site's subnets pair
	// by pair (8 subnets make 36 pairs), small enough that every record carrying it
	// stays small.
	MaxSignedMapEntries = 64
	signedMapHeader     = 42
	// MaxSignedMapLen is the largest valid encoding (64 IPv6 entries).
	MaxSignedMapLen = signedMapHeader + MaxSignedMapEntries*39 + ed25519.SignatureSize
)

// SignedCostMap is a decoded and verified signed cost map.
type SignedCostMap struct {
	Signer ed25519.PublicKey
	Issued uint64 // Unix ms
	Map    *CostMap
}

// Errors of DecodeSignedCostMap, so a node can count each kind of drop.
var (
	ErrSignedMapMalformed = errors.New("signed cost map: malformed")
	ErrSignedMapSignature = errors.New("signed cost map: bad signature")
)

// EncodeSignedCostMap signs cm, issued at issuedMs (Unix ms), with id's key. Costs
// are rounded to the µs-equivalent.
func EncodeSignedCostMap(cm *CostMap, issuedMs uint64, id *identity.Identity) ([]byte, error) {
	n := cm.Len()
	if n == 0 || n > MaxSignedMapEntries {
		return nil, fmt.Errorf("signed cost map: %d entries, want 1 to %d", n, MaxSignedMapEntries)
	}
	b := make([]byte, 0, MaxSignedMapLen)
	b = append(b, signedMapVersion)
	b = append(b, id.Public...)
	b = binary.BigEndian.AppendUint64(b, issuedMs)
	b = append(b, byte(n))
	for _, e := range cm.entries {
		if e.a.Addr().Is4() != e.b.Addr().Is4() {
			return nil, fmt.Errorf("signed cost map: line %d mixes IPv4 and IPv6", e.line)
		}
		fam := byte(6)
		if e.a.Addr().Is4() {
			fam = 4
		}
		b = append(b, fam)
		for _, p := range []netip.Prefix{e.a, e.b} {
			b = append(b, p.Addr().AsSlice()...)
			b = append(b, byte(p.Bits()))
		}
		b = binary.BigEndian.AppendUint32(b, uint32(math.Round(e.cost*1000)))
	}
	return append(b, id.SignContext(identity.ContextCostMap, b)...), nil
}

// SignedCostMapHeader reads the signer and issue time without checking anything
// else, so that a node can drop a map from a key it does not trust, or one not
// newer than its own, before paying for a signature check.
func SignedCostMapHeader(b []byte) (signer ed25519.PublicKey, issuedMs uint64, err error) {
	if len(b) < signedMapHeader+ed25519.SignatureSize || len(b) > MaxSignedMapLen || b[0] != signedMapVersion {
		return nil, 0, ErrSignedMapMalformed
	}
	return ed25519.PublicKey(b[1:33]), binary.BigEndian.Uint64(b[33:41]), nil
}

// DecodeSignedCostMap parses b and checks its signature by the key it names; the
// caller decides whether it trusts that key.
func DecodeSignedCostMap(b []byte) (SignedCostMap, error) {
	signer, issued, err := SignedCostMapHeader(b)
	if err != nil {
		return SignedCostMap{}, err
	}
	body, sig := b[:len(b)-ed25519.SignatureSize], b[len(b)-ed25519.SignatureSize:]
	n := int(body[41])
	if n == 0 || n > MaxSignedMapEntries {
		return SignedCostMap{}, ErrSignedMapMalformed
	}
	cm := &CostMap{entries: make([]costEntry, 0, n)}
	seen := make(map[[2]netip.Prefix]bool, n)
	p := body[signedMapHeader:]
	for i := range n {
		if len(p) < 1 {
			return SignedCostMap{}, ErrSignedMapMalformed
		}
		alen := 0
		switch p[0] {
		case 4:
			alen = 4
		case 6:
			alen = 16
		default:
			return SignedCostMap{}, ErrSignedMapMalformed
		}
		if len(p) < 1+2*(alen+1)+4 {
			return SignedCostMap{}, ErrSignedMapMalformed
		}
		a, okA := wirePrefix(p[1 : 1+alen+1])
		b2, okB := wirePrefix(p[1+alen+1 : 1+2*(alen+1)])
		cost := binary.BigEndian.Uint32(p[1+2*(alen+1):])
		if !okA || !okB || float64(cost) > MaxMapCost*1000 {
			return SignedCostMap{}, ErrSignedMapMalformed
		}
		key := [2]netip.Prefix{a, b2}
		if b2.String() < a.String() {
			key = [2]netip.Prefix{b2, a}
		}
		if seen[key] {
			return SignedCostMap{}, ErrSignedMapMalformed
		}
		seen[key] = true
		cm.entries = append(cm.entries, costEntry{a: a, b: b2, cost: float64(cost) / 1000, line: i + 1})
		p = p[1+2*(alen+1)+4:]
	}
	if len(p) != 0 {
		return SignedCostMap{}, ErrSignedMapMalformed
	}
	if !identity.VerifyContext(signer, identity.ContextCostMap, body, sig) {
		return SignedCostMap{}, ErrSignedMapSignature
	}
	return SignedCostMap{Signer: append(ed25519.PublicKey(nil), signer...), Issued: issued, Map: cm}, nil
}

// wirePrefix reads an address and its prefix length; host bits must be zero.
func wirePrefix(b []byte) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(b[:len(b)-1])
	if !ok {
		return netip.Prefix{}, false
	}
	p, err := a.Prefix(int(b[len(b)-1]))
	if err != nil || p.Addr() != a || int(b[len(b)-1]) > a.BitLen() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, int(b[len(b)-1])), true
}
