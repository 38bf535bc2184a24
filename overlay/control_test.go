package overlay

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"parley/internal/team"
)

type pongCase struct {
	name string
	b    []byte
	want pingPayload
	ok   bool
}

// pongCases are the decodePong table cases, reused as fuzz seeds.
func pongCases() []pongCase {
	var s rttStats
	ping := s.nextPing(time.UnixMicro(1_700_000_000_000_000))
	return []pongCase{
		{"a real ping echoed", ping, pingPayload{Nonce: 1, SentMicros: 1_700_000_000_000_000}, true},
		{"all ones", bytes.Repeat([]byte{0xff}, pingLen), pingPayload{Nonce: 1<<64 - 1, SentMicros: 1<<64 - 1}, true},
		{"garbage of the right length", []byte("0123456789abcdef"), pingPayload{Nonce: 0x3031323334353637, SentMicros: 0x3839616263646566}, true},
		{"empty", nil, pingPayload{}, false},
		{"nonce only", ping[:8], pingPayload{}, false},
		{"one short", ping[:pingLen-1], pingPayload{}, false},
		{"one long", append(bytes.Clone(ping), 0), pingPayload{}, false},
		{"two pings", append(bytes.Clone(ping), ping...), pingPayload{}, false},
		{"garbage text", []byte("ping"), pingPayload{}, false},
	}
}

func TestDecodePong(t *testing.T) {
	for _, tc := range pongCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodePong(tc.b)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, errControl) || got != (pingPayload{}) {
					t.Fatalf("rejected with %v, %+v", err, got)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// FuzzDecodePong: no panic, and an accepted pong is exactly a ping's encoding.
func FuzzDecodePong(f *testing.F) {
	for _, tc := range pongCases() {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePong(b)
		if err != nil {
			return
		}
		if again := appendPing(nil, p); !bytes.Equal(again, b) {
			t.Fatalf("decode/encode does not round-trip: %x -> %+v -> %x", b, p, again)
		}
	})
}

type probeCase struct {
	name string
	b    []byte
	want probeHeader
	ok   bool
}

// probeCases are the decodeProbe table cases, reused as fuzz seeds.
func probeCases() []probeCase {
	frame := func(h probeHeader, filler int) []byte {
		return append(appendProbeHeader(nil, h), make([]byte, filler)...)
	}
	first := probeHeader{ID: 7, Index: 0, Count: probeFrames}
	return []probeCase{
		{"first frame", frame(first, probeFrameSize-probeHeaderLen), first, true},
		{"last frame", frame(probeHeader{ID: 7, Index: probeFrames - 1, Count: probeFrames}, 100), probeHeader{ID: 7, Index: probeFrames - 1, Count: probeFrames}, true},
		{"header only", frame(first, 0), first, true},
		{"burst of one", frame(probeHeader{ID: 1 << 31, Count: 1}, 3), probeHeader{ID: 1 << 31, Count: 1}, true},
		{"widest burst", frame(probeHeader{ID: 1, Index: 65534, Count: 65535}, 0), probeHeader{ID: 1, Index: 65534, Count: 65535}, true},
		{"long filler", frame(first, 64<<10), first, true},
		{"empty", nil, probeHeader{}, false},
		{"one short", frame(first, 0)[:probeHeaderLen-1], probeHeader{}, false},
		{"count 0", frame(probeHeader{ID: 7}, 10), probeHeader{}, false},
		{"index is count", frame(probeHeader{ID: 7, Index: probeFrames, Count: probeFrames}, 10), probeHeader{}, false},
		{"index past count", frame(probeHeader{ID: 7, Index: 200, Count: 3}, 10), probeHeader{}, false},
		{"garbage", bytes.Repeat([]byte{0xff}, 20), probeHeader{}, false},
	}
}

func TestDecodeProbe(t *testing.T) {
	for _, tc := range probeCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeProbe(tc.b)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, errControl) || got != (probeHeader{}) {
					t.Fatalf("rejected with %v, %+v", err, got)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// FuzzDecodeProbe: no panic; an accepted header lies inside its own burst and is
// the encoding of what was decoded (the filler after it is not looked at).
func FuzzDecodeProbe(f *testing.F) {
	for _, tc := range probeCases() {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeProbe(b)
		if err != nil {
			return
		}
		if h.Count == 0 || h.Index >= h.Count {
			t.Fatalf("accepted frame %d of a burst of %d", h.Index, h.Count)
		}
		if again := appendProbeHeader(nil, h); !bytes.Equal(again, b[:probeHeaderLen]) {
			t.Fatalf("decode/encode does not round-trip: %x -> %+v -> %x", b[:probeHeaderLen], h, again)
		}
	})
}

type reportCase struct {
	name string
	b    []byte
	want probeReport
	ok   bool
}

// reportCases are the decodeProbeReport table cases, reused as fuzz seeds.
func reportCases() []reportCase {
	typical := probeReport{ID: 3, Bytes: (probeFrames - 1) * (probeFrameSize + frameHeaderLen), Micros: 1234}
	good := appendProbeReport(nil, typical)
	return []reportCase{
		{"typical", good, typical, true},
		{"zero", make([]byte, probeReportLen), probeReport{}, true},
		{"largest burst", appendProbeReport(nil, probeReport{ID: 1, Bytes: maxProbeReportBytes, Micros: 1<<32 - 1}), probeReport{ID: 1, Bytes: maxProbeReportBytes, Micros: 1<<32 - 1}, true},
		{"trailing bytes ignored", append(bytes.Clone(good), "later field"...), typical, true},
		{"empty", nil, probeReport{}, false},
		{"one short", good[:probeReportLen-1], probeReport{}, false},
		{"id only", good[:4], probeReport{}, false},
		{"more bytes than a burst", appendProbeReport(nil, probeReport{ID: 1, Bytes: maxProbeReportBytes + 1}), probeReport{}, false},
		{"garbage", bytes.Repeat([]byte{0xff}, probeReportLen), probeReport{}, false},
	}
}

func TestDecodeProbeReport(t *testing.T) {
	for _, tc := range reportCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeProbeReport(tc.b)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, errControl) || got != (probeReport{}) {
					t.Fatalf("rejected with %v, %+v", err, got)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// FuzzDecodeProbeReport: no panic; an accepted report claims no more than a burst
// carries and is the encoding of what was decoded, trailing bytes aside.
func FuzzDecodeProbeReport(f *testing.F) {
	for _, tc := range reportCases() {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeProbeReport(b)
		if err != nil {
			return
		}
		if r.Bytes > maxProbeReportBytes {
			t.Fatalf("accepted a report of %d bytes", r.Bytes)
		}
		if again := appendProbeReport(nil, r); !bytes.Equal(again, b[:probeReportLen]) {
			t.Fatalf("decode/encode does not round-trip: %x -> %+v -> %x", b[:probeReportLen], r, again)
		}
	})
}

type teamProofCase struct {
	name   string
	stream []byte
	ok     bool
}

// teamProofCases are the readTeamProof table cases, reused as fuzz seeds: the
// bytes a peer sends first on a closed team's link.
func teamProofCases() []teamProofCase {
	tag := []byte("0123456789abcdef")
	good := AppendFrame(nil, TypeTeamProof, tag)
	withHeader := func(version, typ uint8, n uint32, payload []byte) []byte {
		return append(frameHeader(version, typ, n), payload...)
	}
	return []teamProofCase{
		{"proof", good, true},
		{"proof then link frames", AppendFrame(bytes.Clone(good), TypePing, make([]byte, pingLen)), true},
		{"proof then garbage", append(bytes.Clone(good), 0xff, 0xff, 0xff), true},
		{"empty", nil, false},
		{"short header", good[:3], false},
		{"header only", good[:frameHeaderLen], false},
		{"truncated tag", good[:teamProofFrameLen-1], false},
		{"tag one short", withHeader(frameVersion, TypeTeamProof, team.TagLen-1, tag[:team.TagLen-1]), false},
		{"tag one long", withHeader(frameVersion, TypeTeamProof, team.TagLen+1, append(bytes.Clone(tag), 0)), false},
		{"huge length", withHeader(frameVersion, TypeTeamProof, MaxFrame, tag), false},
		{"empty proof", withHeader(frameVersion, TypeTeamProof, 0, nil), false},
		{"ping first", AppendFrame(nil, TypePing, tag), false},
		{"record first", AppendFrame(nil, TypeRecord, tag), false},
		{"wrong frame version", withHeader(2, TypeTeamProof, team.TagLen, tag), false},
		{"garbage", bytes.Repeat([]byte{0xff}, teamProofFrameLen), false},
	}
}

func TestReadTeamProof(t *testing.T) {
	for _, tc := range teamProofCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := bytes.NewReader(tc.stream)
			tag, err := readTeamProof(r)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			read := len(tc.stream) - r.Len()
			if err != nil {
				if tag != nil {
					t.Fatalf("rejected proof still returned tag %x", tag)
				}
				if read > teamProofFrameLen {
					t.Fatalf("read %d bytes, past the first frame", read)
				}
				return
			}
			if read != teamProofFrameLen || !bytes.Equal(tag, tc.stream[frameHeaderLen:teamProofFrameLen]) {
				t.Fatalf("read %d bytes, tag %x", read, tag)
			}
		})
	}
}

// FuzzReadTeamProof: no panic; it never reads past one proof frame (the rest of the
// stream belongs to the link); and it accepts only the one header a proof has,
// returning the 16 bytes after it.
func FuzzReadTeamProof(f *testing.F) {
	for _, tc := range teamProofCases() {
		f.Add(tc.stream)
	}
	want := frameHeader(frameVersion, TypeTeamProof, team.TagLen)
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := bytes.NewReader(stream)
		tag, err := readTeamProof(r)
		read := len(stream) - r.Len()
		if read > teamProofFrameLen {
			t.Fatalf("read %d bytes, past the first frame", read)
		}
		if err != nil {
			return
		}
		if read != teamProofFrameLen || !bytes.Equal(stream[:frameHeaderLen], want) ||
			!bytes.Equal(tag, stream[frameHeaderLen:teamProofFrameLen]) {
			t.Fatalf("accepted %x: read %d bytes, tag %x", stream, read, tag)
		}
	})
}

// TestMalformedControlFramesCounted sends control frames that do not decode over a
// real link: each is dropped and counted, and the link stays up.
func TestMalformedControlFramesCounted(t *testing.T) {
	b := startNode(t, 2, "bob")
	p := dialRaw(t, 52, b)
	p.roundTrip(1)
	before := b.ov.Stats()
	want := map[string]uint64{}
	send := func(typ uint8, counter string, payload []byte) {
		p.write(AppendFrame(nil, typ, payload))
		want[counter]++
	}
	for _, tc := range pongCases() {
		if !tc.ok {
			send(TypePong, "pong_drop_malformed", tc.b)
		}
	}
	for _, tc := range probeCases() {
		if !tc.ok {
			send(TypeProbe, "probe_drop_malformed", tc.b)
		}
	}
	for _, tc := range reportCases() {
		if !tc.ok {
			send(TypeProbeReport, "probe_report_drop_malformed", tc.b)
		}
	}
	p.roundTrip(2)
	after := b.ov.Stats()
	for k, n := range want {
		if got := after[k] - before[k]; got != n {
			t.Errorf("%s grew by %d, want %d", k, got, n)
		}
	}
	if !b.ov.Linked(p.id.ID) {
		t.Fatal("malformed control frames cost the link")
	}
}
