package selection

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"parley/identity"
	"parley/internal/wire"
	"parley/vivaldi"
)

// ExtensionType is the overlay record extension type that carries EncodeSelf's bytes.
const ExtensionType = wire.RecordExtSelf

const (
	selfVersion = 1
	// selfHeaderLen is everything before the link entries.
	selfHeaderLen = 1 + 1 + 1 + 1 + 4 + 4 + 2 + 4 + vivaldi.EncodedLen + 1
	// selfLinkLen is one link entry.
	selfLinkLen = identity.IDLen + 4 + 4 + 4 + 2
	// MaxSelfLinks is the most links one record carries (the count is a u8).
	MaxSelfLinks = 255
)

// ErrSelfFormat is wrapped by every DecodeSelf error.
var ErrSelfFormat = errors.New("selection: bad self-metrics encoding")

// SelfMetrics is what a peer publishes about itself and its measured links.
type SelfMetrics struct {
	Power                      Power
	LinkType                   LinkType
	CPULoad                    float32 // 0..1, sent with 1/255 resolution
	SpareUpKbps, SpareDownKbps uint32
	RelaySessions              uint16
	RelayKbps                  uint32
	Coord                      vivaldi.Coord
	Links                      []LinkMetric
	// Cell names the Wi-Fi access point the peer is associated with, as a
	// salted hash of its BSSID (CellID); 0 = unknown or not on Wi-Fi.
	Cell uint64
}

// LinkMetric is one of the publisher's measured links.
type LinkMetric struct {
	Peer                identity.PeerID
	RTT, RTTVar, Jitter time.Duration // sent in whole µs, saturating at 2³²−1 µs
	Loss                float32       // 0..1, sent with 1/65535 resolution
}

// Optional fields after the links: [tag u8][len u8][value], unknown tags skipped.
const (
	fieldCell    = 1 // [cell u64]
	fieldCellLen = 8
)

// SelfLen is the encoded size of m.
func SelfLen(m SelfMetrics) int {
	n := selfHeaderLen + selfLinkLen*len(m.Links)
	if m.Cell != 0 {
		n += 2 + fieldCellLen
	}
	return n
}

// EncodeSelf encodes m (see the package doc for the layout).
func EncodeSelf(m SelfMetrics) ([]byte, error) {
	return AppendSelf(make([]byte, 0, SelfLen(m)), m)
}

// AppendSelf appends m's encoding to dst. Out-of-range numbers are clamped (a
// negative duration to 0, a loss above 1 to 1); an invalid coordinate, an unknown
// power or link type, or too many links is an error, since the peer would be
// publishing something it does not mean.
func AppendSelf(dst []byte, m SelfMetrics) ([]byte, error) {
	if len(m.Links) > MaxSelfLinks {
		return dst, fmt.Errorf("selection: encode self metrics: %d links, at most %d", len(m.Links), MaxSelfLinks)
	}
	if m.Power > Battery || m.LinkType > Wireless {
		return dst, fmt.Errorf("selection: encode self metrics: power %d / link type %d out of range", m.Power, m.LinkType)
	}
	if dup, ok := duplicatePeer(m.Links); ok {
		return dst, fmt.Errorf("selection: encode self metrics: peer %s listed twice", dup)
	}
	w := wire.Writer{B: dst}
	w.U8(selfVersion)
	w.U8(uint8(m.Power))
	w.U8(uint8(m.LinkType))
	w.U8(uint8(math.Round(clamp01(float64(m.CPULoad)) * 255)))
	w.U32(m.SpareUpKbps)
	w.U32(m.SpareDownKbps)
	w.U16(m.RelaySessions)
	w.U32(m.RelayKbps)
	b, err := m.Coord.AppendBinary(w.B)
	if err != nil {
		return dst, fmt.Errorf("selection: encode self metrics: %w", err)
	}
	w.B = b
	w.U8(uint8(len(m.Links)))
	for _, l := range m.Links {
		w.Raw(l.Peer[:])
		w.U32(micros(l.RTT))
		w.U32(micros(l.RTTVar))
		w.U32(micros(l.Jitter))
		w.U16(uint16(math.Round(clamp01(float64(l.Loss)) * 65535)))
	}
	if m.Cell != 0 {
		w.U8(fieldCell)
		w.U8(fieldCellLen)
		w.U64(m.Cell)
	}
	return w.B, nil
}

// DecodeSelf parses EncodeSelf's output. After the last link come optional
// fields, each [tag u8][len u8][value]; unknown tags are skipped, so a later
// revision may append fields without breaking this decoder (and decoders older
// than the fields ignore everything after the links).
func DecodeSelf(b []byte) (SelfMetrics, error) {
	var m SelfMetrics
	r := wire.NewReader(b)
	if v := r.U8(); r.Err == nil && v != selfVersion {
		return m, fmt.Errorf("%w: version %d, want %d", ErrSelfFormat, v, selfVersion)
	}
	m.Power = Power(r.U8())
	m.LinkType = LinkType(r.U8())
	if m.Power > Battery || m.LinkType > Wireless {
		r.Fail("power %d / link type %d out of range", m.Power, m.LinkType)
	}
	m.CPULoad = float32(r.U8()) / 255
	m.SpareUpKbps = r.U32()
	m.SpareDownKbps = r.U32()
	m.RelaySessions = r.U16()
	m.RelayKbps = r.U32()
	if raw := r.Raw(vivaldi.EncodedLen); r.Err == nil {
		c, err := vivaldi.Decode(raw)
		if err != nil {
			r.Fail("%v", err)
		}
		m.Coord = c
	}
	n := int(r.U8())
	if r.Err == nil && r.Len() < n*selfLinkLen {
		r.Fail("%d links need %d bytes, have %d", n, n*selfLinkLen, r.Len())
	}
	if r.Err == nil && n > 0 {
		m.Links = make([]LinkMetric, n)
	}
	for i := 0; i < n && r.Err == nil; i++ {
		l := &m.Links[i]
		copy(l.Peer[:], r.Raw(identity.IDLen))
		l.RTT = time.Duration(r.U32()) * time.Microsecond
		l.RTTVar = time.Duration(r.U32()) * time.Microsecond
		l.Jitter = time.Duration(r.U32()) * time.Microsecond
		l.Loss = float32(r.U16()) / 65535
	}
	if dup, ok := duplicatePeer(m.Links); ok && r.Err == nil {
		r.Fail("peer %s listed twice", dup)
	}
	for r.Err == nil && r.Len() > 0 {
		tag, n := r.U8(), int(r.U8())
		if r.Err == nil && r.Len() < n {
			r.Fail("field %d of %d bytes, have %d", tag, n, r.Len())
		}
		v := r.Raw(n)
		switch {
		case r.Err != nil:
		case tag == fieldCell && n != fieldCellLen:
			r.Fail("cell of %d bytes, want %d", n, fieldCellLen)
		case tag == fieldCell:
			m.Cell = binary.BigEndian.Uint64(v)
		}
	}
	if r.Err != nil {
		return SelfMetrics{}, fmt.Errorf("%w: %v", ErrSelfFormat, r.Err)
	}
	return m, nil
}

// duplicatePeer finds a peer listed twice: a peer has one link to each neighbour,
// and two figures for one link would make "what changed" ambiguous.
func duplicatePeer(links []LinkMetric) (identity.PeerID, bool) {
	if len(links) < 2 {
		return identity.PeerID{}, false
	}
	seen := make(map[identity.PeerID]bool, len(links))
	for _, l := range links {
		if seen[l.Peer] {
			return l.Peer, true
		}
		seen[l.Peer] = true
	}
	return identity.PeerID{}, false
}

func micros(d time.Duration) uint32 {
	us := d / time.Microsecond
	switch {
	case us < 0:
		return 0
	case us > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(us)
}

// PeerInfo turns what peer id published into the Graph's view of it.
func (m SelfMetrics) PeerInfo(id identity.PeerID, online bool) PeerInfo {
	return PeerInfo{
		ID: id.String(), Coord: m.Coord, Power: m.Power, LinkType: m.LinkType,
		SpareUpKbps: m.SpareUpKbps, SpareDownKbps: m.SpareDownKbps,
		RelaySessions: m.RelaySessions, RelayKbps: m.RelayKbps, CPULoad: m.CPULoad,
		Cell: m.Cell, Online: online,
	}
}

// LinkInfos turns the links peer id published into the Graph's link list.
func (m SelfMetrics) LinkInfos(id identity.PeerID) []LinkInfo {
	out := make([]LinkInfo, len(m.Links))
	self := id.String()
	for i, l := range m.Links {
		out[i] = LinkInfo{A: self, B: l.Peer.String(), RTT: l.RTT, RTTVar: l.RTTVar, Jitter: l.Jitter, Loss: l.Loss}
	}
	return out
}
