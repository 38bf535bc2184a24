package discovery

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"parley/identity"
	"parley/internal/team"
	"parley/internal/wire"
)

const (
	beaconMagic   = "PRLY"
	beaconVersion = 1
	// MaxBeaconSize bounds what a receiver reads and what it accepts.
	MaxBeaconSize  = 512
	beaconFixedLen = 50
	beaconSigLen   = ed25519.SignatureSize

	extName = wire.BeaconExtName
	// extTeam carries a closed team's tag: team.Tag("beacon", public key [32],
	// seq u64, port u16, kind u8), 16 bytes (package team).
	extTeam = wire.BeaconExtTeam
)

// BeaconKind says whether a beacon announces a peer or says goodbye.
type BeaconKind uint8

const (
	KindAnnounce BeaconKind = 1
	KindGoodbye  BeaconKind = 2
)

// Beacon is one decoded, verified beacon.
type Beacon struct {
	Kind   BeaconKind
	PubKey ed25519.PublicKey
	ID     identity.PeerID
	Seq    uint64
	Port   uint16
	Name   string
	// Team is the closed-team tag, if the sender is in one (see extTeam);
	// DecodeBeacon does not check it, the service does.
	Team []byte
}

// Errors a decoder reports; Stats counts by these.
var (
	ErrBeaconSize    = errors.New("beacon: bad size")
	ErrBeaconMagic   = errors.New("beacon: bad magic")
	ErrBeaconVersion = errors.New("beacon: unsupported version")
	ErrBeaconKind    = errors.New("beacon: unknown kind")
	ErrBeaconFormat  = errors.New("beacon: malformed")
	ErrBeaconSig     = errors.New("beacon: bad signature")
)

// EncodeBeacon builds and signs a beacon.
func EncodeBeacon(id *identity.Identity, kind BeaconKind, seq uint64, port uint16, name string) []byte {
	return EncodeTeamBeacon(id, kind, seq, port, name, nil)
}

// teamBeaconParts are the fields a beacon's team tag covers.
func teamBeaconParts(pub []byte, kind BeaconKind, seq uint64, port uint16) [][]byte {
	var w wire.Writer
	w.U64(seq)
	w.U16(port)
	w.U8(uint8(kind))
	return [][]byte{pub, w.B}
}

// EncodeTeamBeacon is EncodeBeacon for a member of a closed team (key nil:
// an open beacon).
func EncodeTeamBeacon(id *identity.Identity, kind BeaconKind, seq uint64, port uint16, name string, key *team.Key) []byte {
	var ext wire.Writer
	if key != nil {
		ext.U8(extTeam)
		ext.Bytes8(key.Tag("beacon", teamBeaconParts(id.Public, kind, seq, port)...))
	}
	if name != "" {
		if len(name) > 64 {
			name = name[:64]
		}
		ext.U8(extName)
		ext.Str8(name)
	}
	w := wire.Writer{B: make([]byte, 0, beaconFixedLen+len(ext.B)+beaconSigLen)}
	w.Raw([]byte(beaconMagic))
	w.U8(beaconVersion)
	w.U8(uint8(kind))
	w.Raw(id.Public)
	w.U64(seq)
	w.U16(port)
	w.U16(uint16(len(ext.B)))
	w.Raw(ext.B)
	w.Raw(id.SignContext(identity.ContextBeacon, w.B))
	return w.B
}

// peekAnnouncer is the peer ID an announce claims to come from, read without
// checking anything else: enough to drop the announces of a peer this node is
// already linked to, which tell it nothing (the link is authenticated and the
// peer's record carries its addresses). Checking each one's signature was 6 % of
// an idle node's CPU in a hall of 40 (cmd/benchhall with PARLEY_CPUPROFILE).
// Nothing from an unchecked beacon reaches the table; goodbyes are always checked.
func peekAnnouncer(pkt []byte) (identity.PeerID, bool) {
	const kindAt, keyAt = 5, 6
	if len(pkt) < beaconFixedLen+beaconSigLen || len(pkt) > MaxBeaconSize ||
		string(pkt[:4]) != beaconMagic || pkt[4] != beaconVersion || BeaconKind(pkt[kindAt]) != KindAnnounce {
		return identity.PeerID{}, false
	}
	return identity.IDFromPublicKey(ed25519.PublicKey(pkt[keyAt : keyAt+ed25519.PublicKeySize])), true
}

// DecodeBeacon parses and verifies a beacon. It never panics on hostile input.
func DecodeBeacon(pkt []byte) (Beacon, error) {
	var b Beacon
	if len(pkt) < beaconFixedLen+beaconSigLen || len(pkt) > MaxBeaconSize {
		return b, fmt.Errorf("%w: %d bytes", ErrBeaconSize, len(pkt))
	}
	r := wire.NewReader(pkt)
	if string(r.Raw(4)) != beaconMagic {
		return b, ErrBeaconMagic
	}
	if v := r.U8(); v != beaconVersion {
		return b, fmt.Errorf("%w %d", ErrBeaconVersion, v)
	}
	b.Kind = BeaconKind(r.U8())
	if b.Kind != KindAnnounce && b.Kind != KindGoodbye {
		return b, fmt.Errorf("%w %d", ErrBeaconKind, b.Kind)
	}
	b.PubKey = ed25519.PublicKey(append([]byte(nil), r.Raw(ed25519.PublicKeySize)...))
	b.Seq = r.U64()
	b.Port = r.U16()
	extLen := int(r.U16())
	ext := r.Raw(extLen)
	if r.Err != nil || r.Len() != beaconSigLen {
		return b, fmt.Errorf("%w: extension length %d does not fit", ErrBeaconFormat, extLen)
	}
	signed := pkt[:beaconFixedLen+extLen]
	if !identity.VerifyContext(b.PubKey, identity.ContextBeacon, signed, r.Raw(beaconSigLen)) {
		return b, ErrBeaconSig
	}
	er := wire.NewReader(ext)
	for er.Len() > 0 && er.Err == nil {
		typ, val := er.U8(), er.Bytes8()
		switch typ {
		case extName:
			b.Name = string(val)
		case extTeam:
			b.Team = append([]byte(nil), val...)
		}
	}
	if er.Err != nil {
		return b, fmt.Errorf("%w: extensions: %v", ErrBeaconFormat, er.Err)
	}
	b.ID = identity.IDFromPublicKey(b.PubKey)
	return b, nil
}

// teamOK reports whether b carries a valid tag of key.
func (b Beacon) teamOK(key *team.Key) bool {
	return key.Check(b.Team, "beacon", teamBeaconParts(b.PubKey, b.Kind, b.Seq, b.Port)...)
}
