package selection

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/identity"
	"parley/vivaldi"
)

func pid(b byte) identity.PeerID {
	var id identity.PeerID
	for i := range id {
		id[i] = b + byte(i)
	}
	return id
}

func sampleSelf() SelfMetrics {
	return SelfMetrics{
		Power: Battery, LinkType: Wireless, CPULoad: 0.4,
		SpareUpKbps: 20_000, SpareDownKbps: 80_000, RelaySessions: 2, RelayKbps: 512,
		Coord: vivaldi.Coord{X: 1.5, Y: -2.25, Height: 3, Error: 0.2},
		Links: []LinkMetric{
			{Peer: pid(1), RTT: 4200 * time.Microsecond, RTTVar: 800 * time.Microsecond, Jitter: 1100 * time.Microsecond, Loss: 0.012},
			{Peer: pid(100), RTT: 350 * time.Microsecond, Loss: 0},
		},
	}
}

// quantize is what the wire format keeps of m.
func quantize(m SelfMetrics) SelfMetrics {
	m.CPULoad = float32(math.Round(float64(m.CPULoad)*255)) / 255
	m.Coord = vivaldi.Coord{X: float64(float32(m.Coord.X)), Y: float64(float32(m.Coord.Y)),
		Height: float64(float32(m.Coord.Height)), Error: float64(float32(m.Coord.Error))}
	m.Links = slices.Clone(m.Links)
	for i := range m.Links {
		m.Links[i].Loss = float32(math.Round(float64(m.Links[i].Loss)*65535)) / 65535
	}
	return m
}

func TestSelfRoundTrip(t *testing.T) {
	for _, m := range []SelfMetrics{sampleSelf(), {Coord: vivaldi.New()}} {
		b, err := EncodeSelf(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != SelfLen(m) || len(b) != 35+30*len(m.Links) {
			t.Fatalf("encoded %d bytes, SelfLen %d", len(b), SelfLen(m))
		}
		got, err := DecodeSelf(b)
		if err != nil {
			t.Fatal(err)
		}
		want := quantize(m)
		if len(want.Links) == 0 {
			want.Links = nil
		}
		if !equalSelf(got, want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
		}
	}
}

func equalSelf(a, b SelfMetrics) bool {
	return slices.Equal(a.Links, b.Links) &&
		reflect.DeepEqual(withoutLinks(a), withoutLinks(b))
}

func withoutLinks(m SelfMetrics) SelfMetrics {
	m.Links = nil
	return m
}

func TestSelfLayout(t *testing.T) {
	b, err := EncodeSelf(sampleSelf())
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{1, 2, 2, 102, 0, 0, 0x4e, 0x20, 0, 1, 0x38, 0x80, 0, 2, 0, 0, 2, 0}
	if !bytes.Equal(b[:18], want) {
		t.Fatalf("header %x, want %x", b[:18], want)
	}
	if b[34] != 2 || !bytes.Equal(b[35:51], pid(1).Bytes()) {
		t.Fatalf("link count / first peer wrong: %x", b[34:51])
	}
	if got := b[51:55]; !bytes.Equal(got, []byte{0, 0, 0x10, 0x68}) { // 4200 µs
		t.Fatalf("rtt bytes %x", got)
	}
}

func TestEncodeSelfClampsAndRejects(t *testing.T) {
	m := sampleSelf()
	m.CPULoad = 7
	m.Links[0].RTT = -time.Second
	m.Links[0].Jitter = 5 * time.Hour
	m.Links[0].Loss = float32(math.NaN())
	b, err := EncodeSelf(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSelf(b)
	if err != nil {
		t.Fatal(err)
	}
	l := got.Links[0]
	if got.CPULoad != 1 || l.RTT != 0 || l.Jitter != math.MaxUint32*time.Microsecond || l.Loss != 0 {
		t.Fatalf("clamping: cpu %v link %+v", got.CPULoad, l)
	}
	bad := []func(*SelfMetrics){
		func(m *SelfMetrics) { m.Links = make([]LinkMetric, MaxSelfLinks+1) },
		func(m *SelfMetrics) { m.Power = 3 },
		func(m *SelfMetrics) { m.LinkType = 9 },
		func(m *SelfMetrics) { m.Coord.X = math.Inf(1) },
		func(m *SelfMetrics) { m.Links = append(m.Links, m.Links[0]) },
	}
	for i, mut := range bad {
		m := sampleSelf()
		mut(&m)
		if out, err := AppendSelf([]byte{7}, m); err == nil || !bytes.Equal(out, []byte{7}) {
			t.Errorf("case %d: AppendSelf = %x, %v; want an error and dst unchanged", i, out, err)
		}
	}
}

// selfCases are malformed or edge encodings for the table test and fuzz seeds.
func selfCases(t testing.TB) []struct {
	name string
	b    []byte
	want string // "" = decodes
} {
	good, err := EncodeSelf(sampleSelf())
	if err != nil {
		t.Fatal(err)
	}
	mut := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	return []struct {
		name string
		b    []byte
		want string
	}{
		{"good", good, ""},
		{"unknown field skipped", append(bytes.Clone(good), 9, 2, 0xaa, 0xbb), ""},
		{"cell", append(bytes.Clone(good), 1, 8, 1, 2, 3, 4, 5, 6, 7, 8), ""},
		{"cell after an unknown field", append(bytes.Clone(good), 9, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8), ""},
		{"cell of 2 bytes", append(bytes.Clone(good), 1, 2, 0, 0), "cell of 2 bytes"},
		{"truncated field", append(bytes.Clone(good), 9, 5, 1), "field 9 of 5 bytes"},
		{"field without its length", append(bytes.Clone(good), 9), "too short"},
		{"empty", nil, "too short"},
		{"version 2", mut(0, 2), "version 2"},
		{"power 3", mut(1, 3), "out of range"},
		{"link type 3", mut(2, 3), "out of range"},
		{"NaN coordinate", append(append(bytes.Clone(good[:18]), 0x7f, 0xc0, 0, 0), good[22:]...), "not finite"},
		{"truncated header", good[:20], "too short"},
		{"truncated links", good[:len(good)-1], "links need"},
		{"count too big", mut(34, 3), "links need"},
		{"no links", append(bytes.Clone(good[:34]), 0), ""},
		{"duplicate peer", append(mut(34, 3), good[35:65]...), "listed twice"},
	}
}

// The cell travels in an optional field after the links: a record without one
// is byte for byte what it was before cells existed.
func TestSelfCell(t *testing.T) {
	m := sampleSelf()
	plain, _ := EncodeSelf(m)
	m.Cell = 0x0102030405060708
	b, err := EncodeSelf(m)
	if err != nil || len(b) != len(plain)+10 || !bytes.HasPrefix(b, plain) || len(b) != SelfLen(m) {
		t.Fatalf("EncodeSelf with a cell = %x, %v (without: %x)", b, err, plain)
	}
	got, err := DecodeSelf(b)
	if err != nil || got.Cell != m.Cell || got.PeerInfo(pid(1), true).Cell != m.Cell {
		t.Fatalf("DecodeSelf = cell %x, %v", got.Cell, err)
	}
	old := m
	old.Cell = 0
	if !MaterialChange(old, m) {
		t.Fatal("a new cell is not a material change")
	}
}

func TestDecodeSelfTable(t *testing.T) {
	for _, tc := range selfCases(t) {
		_, err := DecodeSelf(tc.b)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		case err != nil && !errors.Is(err, ErrSelfFormat):
			t.Errorf("%s: %v does not wrap ErrSelfFormat", tc.name, err)
		}
	}
}

func TestSelfToGraph(t *testing.T) {
	m := sampleSelf()
	me := pid(50)
	p := m.PeerInfo(me, true)
	if p.ID != me.String() || p.Power != Battery || p.SpareUpKbps != 20_000 || !p.Online || p.Coord != m.Coord {
		t.Fatalf("PeerInfo = %+v", p)
	}
	links := m.LinkInfos(me)
	if len(links) != 2 || links[0].A != me.String() || links[0].B != pid(1).String() || links[0].RTT != 4200*time.Microsecond {
		t.Fatalf("LinkInfos = %+v", links)
	}
}

func FuzzDecodeSelf(f *testing.F) {
	for _, tc := range selfCases(f) {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeSelf(b)
		if err != nil {
			return
		}
		re, err := EncodeSelf(m)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
		// Everything up to the links is kept as it was (a decoder older than the
		// optional fields reads just that); of the fields only those known are.
		fixed := SelfLen(SelfMetrics{Links: m.Links})
		if !bytes.HasPrefix(b, re[:fixed]) || len(re) > len(b) {
			t.Fatalf("re-encoding %x does not keep the input's %x", re, b)
		}
		if again, err := DecodeSelf(re); err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("re-encoding decodes to %+v, %v; want %+v", again, err, m)
		}
		if MaterialChange(m, m) {
			t.Fatal("a record differs materially from itself")
		}
	})
}
