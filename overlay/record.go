package overlay

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"parley/identity"
	"parley/internal/wire"
)

const (
	recordVersion = 1
	// MaxRecord bounds an encoded record.
	MaxRecord       = 16 << 10
	maxStatusText   = 512
	maxAddrs        = 16
	maxCaps         = 32
	maxNeighbours   = 512
	flagOffline     = 1
	recordSigOffset = ed25519.SignatureSize
)

// Presence is a peer's declared availability.
type Presence uint8

const (
	Available Presence = 0
	Away      Presence = 1
	Busy      Presence = 2
)

func (p Presence) String() string {
	switch p {
	case Away:
		return "away"
	case Busy:
		return "busy"
	default:
		return "available"
	}
}

// ParsePresence reads "available", "away" or "busy".
func ParsePresence(s string) (Presence, error) {
	switch s {
	case "available":
		return Available, nil
	case "away":
		return Away, nil
	case "busy":
		return Busy, nil
	}
	return 0, fmt.Errorf("unknown presence %q (want available, away or busy)", s)
}

// NeighbourInfo is one entry of a record's neighbour list.
type NeighbourInfo struct {
	ID  identity.PeerID
	RTT time.Duration
}

// Extension is one opaque TLV carried in a record for later features.
type Extension struct {
	Type  uint8
	Value []byte
}

// Record is what a peer publishes about itself.
type Record struct {
	PubKey     ed25519.PublicKey
	Seq        uint64
	Issued     time.Time
	Offline    bool
	Presence   Presence
	Name       string
	Status     string
	Addrs      []netip.AddrPort
	Caps       []string
	Neighbours []NeighbourInfo
	Extensions []Extension

	raw []byte // signed encoding as received or produced
}

// ID is the author's peer ID.
func (r *Record) ID() identity.PeerID { return identity.IDFromPublicKey(r.PubKey) }

// Raw is the signed encoding.
func (r *Record) Raw() []byte { return r.raw }

// Record decoding errors.
var (
	ErrRecordFormat = errors.New("record: malformed")
	ErrRecordSig    = errors.New("record: bad signature")
)

// Sign encodes and signs r with id, setting PubKey and the raw form.
func (r *Record) Sign(id *identity.Identity) error {
	r.PubKey = id.Public
	if len(r.Status) > maxStatusText {
		return fmt.Errorf("status text is %d bytes, limit %d", len(r.Status), maxStatusText)
	}
	if len(r.Name) > 64 {
		return fmt.Errorf("display name is %d bytes, limit 64", len(r.Name))
	}
	if r.Presence > Busy {
		// DecodeRecord refuses it, so every receiver would drop the record.
		return fmt.Errorf("presence %d out of range", r.Presence)
	}
	if len(r.Addrs) > maxAddrs {
		r.Addrs = r.Addrs[:maxAddrs]
	}
	if len(r.Caps) > maxCaps || len(r.Neighbours) > maxNeighbours {
		return fmt.Errorf("record too large: %d capabilities, %d neighbours", len(r.Caps), len(r.Neighbours))
	}
	var w wire.Writer
	w.U8(recordVersion)
	w.Raw(r.PubKey)
	w.U64(r.Seq)
	w.U64(uint64(r.Issued.UnixMilli()))
	var flags uint8
	if r.Offline {
		flags |= flagOffline
	}
	w.U8(flags)
	w.U8(uint8(r.Presence))
	w.Str8(r.Name)
	w.Str16(r.Status)
	w.U8(uint8(len(r.Addrs)))
	for _, a := range r.Addrs {
		w.Str8(a.String())
	}
	w.U8(uint8(len(r.Caps)))
	for _, c := range r.Caps {
		w.Str8(c)
	}
	w.U16(uint16(len(r.Neighbours)))
	for _, n := range r.Neighbours {
		w.Raw(n.ID[:])
		w.U32(uint32(min(n.RTT.Microseconds(), 1<<32-1)))
	}
	var ext wire.Writer
	for _, e := range r.Extensions {
		ext.U8(e.Type)
		ext.Bytes16(e.Value)
	}
	w.Bytes16(ext.B)
	w.Raw(id.SignContext(identity.ContextRecord, w.B))
	if len(w.B) > MaxRecord {
		return fmt.Errorf("record is %d bytes, limit %d", len(w.B), MaxRecord)
	}
	r.raw = w.B
	return nil
}

// DecodeRecord parses and verifies a record.
// peekRecord reads a record's signer and sequence number without checking the
// signature: enough to drop the duplicates and stale copies that flooding
// delivers over every link, which are most records a node receives in a mesh,
// without an ed25519 verification each. Anything it would accept still goes
// through DecodeRecord.
func peekRecord(b []byte) (identity.PeerID, uint64, bool) {
	if len(b) > MaxRecord || len(b) < 1+32+8+recordSigOffset || b[0] != recordVersion {
		return identity.PeerID{}, 0, false
	}
	r := wire.NewReader(b[:len(b)-recordSigOffset])
	r.U8()
	pub := ed25519.PublicKey(r.Raw(32))
	seq := r.U64()
	if r.Err != nil {
		return identity.PeerID{}, 0, false
	}
	return identity.IDFromPublicKey(pub), seq, true
}

func DecodeRecord(b []byte) (*Record, error) {
	if len(b) > MaxRecord || len(b) < 1+32+recordSigOffset {
		return nil, fmt.Errorf("%w: %d bytes", ErrRecordFormat, len(b))
	}
	body := b[:len(b)-recordSigOffset]
	r := wire.NewReader(body)
	if v := r.U8(); v != recordVersion {
		return nil, fmt.Errorf("%w: version %d", ErrRecordFormat, v)
	}
	rec := &Record{PubKey: ed25519.PublicKey(append([]byte(nil), r.Raw(32)...))}
	if r.Err == nil && !identity.VerifyContext(rec.PubKey, identity.ContextRecord, body, b[len(body):]) {
		return nil, ErrRecordSig
	}
	rec.Seq = r.U64()
	rec.Issued = time.UnixMilli(int64(r.U64()))
	rec.Offline = r.U8()&flagOffline != 0
	rec.Presence = Presence(r.U8())
	if rec.Presence > Busy {
		r.Fail("presence %d", rec.Presence)
	}
	rec.Name = r.Str8()
	rec.Status = r.Str16()
	if len(rec.Status) > maxStatusText {
		r.Fail("status text %d bytes", len(rec.Status))
	}
	nAddr := int(r.U8())
	if nAddr > maxAddrs {
		r.Fail("%d addresses", nAddr)
	}
	for i := 0; i < nAddr && r.Err == nil; i++ {
		s := r.Str8()
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			r.Fail("address %q: %v", s, err)
		}
		rec.Addrs = append(rec.Addrs, ap)
	}
	nCaps := int(r.U8())
	if nCaps > maxCaps {
		r.Fail("%d capabilities", nCaps)
	}
	for i := 0; i < nCaps && r.Err == nil; i++ {
		rec.Caps = append(rec.Caps, r.Str8())
	}
	nNb := int(r.U16())
	if nNb > maxNeighbours {
		r.Fail("%d neighbours", nNb)
	}
	for i := 0; i < nNb && r.Err == nil; i++ {
		var n NeighbourInfo
		copy(n.ID[:], r.Raw(identity.IDLen))
		n.RTT = time.Duration(r.U32()) * time.Microsecond
		rec.Neighbours = append(rec.Neighbours, n)
	}
	er := wire.NewReader(r.Bytes16())
	for er.Len() > 0 && er.Err == nil {
		e := Extension{Type: er.U8(), Value: er.Bytes16()}
		rec.Extensions = append(rec.Extensions, e)
	}
	if er.Err != nil {
		r.Fail("extensions: %v", er.Err)
	}
	// Bytes after the extension area are tolerated (a later version may add fields
	// there); they are covered by the signature all the same.
	if r.Err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRecordFormat, r.Err)
	}
	rec.raw = append([]byte(nil), b...)
	return rec, nil
}
