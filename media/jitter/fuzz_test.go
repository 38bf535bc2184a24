package jitter

import (
	"encoding/binary"
	"testing"
	"time"
)

// FuzzBuffer drives a buffer with an arbitrary schedule of pushes and pops. Each
// 8-byte record is one operation:
//
//	[0]    bit 0: pop (else push); bit 1: absolute sequence number (else delta);
//	       bit 2: absolute timestamp (else delta)
//	[1:3]  sequence number, or delta (mod 2^16) from the previous push
//	[3:7]  timestamp, or delta (mod 2^32) from the previous push
//	[7]    clock step before the operation, in ms (signed)
//
// The buffer must never panic, never hold more than its caps, and only ever hand
// out payloads it was given.
func FuzzBuffer(f *testing.F) {
	seed := func(recs ...[8]byte) []byte {
		var out []byte
		for _, r := range recs {
			out = append(out, r[:]...)
		}
		return out
	}
	push := func(dseq int16, dts int32, dt int8) [8]byte {
		var r [8]byte
		binary.BigEndian.PutUint16(r[1:], uint16(dseq))
		binary.BigEndian.PutUint32(r[3:], uint32(dts))
		r[7] = byte(dt)
		return r
	}
	pop := func(dt int8) [8]byte { return [8]byte{1, 0, 0, 0, 0, 0, 0, byte(dt)} }
	f.Add(seed(push(1, 960, 20), pop(20), push(1, 960, 20), pop(20), push(1, 960, 20), pop(20)))
	f.Add(seed(push(1, 960, 20), push(2, 1920, 0), push(-1, -960, 5), pop(20), pop(20), pop(20), pop(20)))
	f.Add(seed(push(1, 960, 0), push(0, 0, 0), push(1, 9600, 100), pop(-20), pop(127), pop(127)))
	f.Add(seed(push(30000, 1<<30, 1), pop(1), push(-30000, -(1<<30), -1), pop(1)))
	var long []byte
	for i := range 200 {
		long = append(long, seed(push(1, 960, int8(i%40)), pop(20))...)
	}
	f.Add(long)

	f.Fuzz(func(t *testing.T, data []byte) {
		b := New(Config{MaxPackets: 20, MaxSpan: 500 * time.Millisecond})
		now := t0
		var seq uint16
		var ts uint32
		given := map[byte]bool{}
		var tag byte
		for len(data) >= 8 {
			r := data[:8]
			data = data[8:]
			now = now.Add(time.Duration(int8(r[7])) * time.Millisecond)
			if r[0]&1 != 0 {
				fr := b.Pop(now)
				switch fr.Kind {
				case Normal, FEC:
					if len(fr.Payload) != 1 || !given[fr.Payload[0]] {
						t.Fatalf("%v frame with payload %v never pushed", fr.Kind, fr.Payload)
					}
				default:
					if fr.Payload != nil {
						t.Fatalf("%v frame carries a payload", fr.Kind)
					}
				}
			} else {
				v := binary.BigEndian.Uint16(r[1:])
				if r[0]&2 != 0 {
					seq = v
				} else {
					seq += v
				}
				if r[0]&4 != 0 {
					ts = binary.BigEndian.Uint32(r[3:])
				} else {
					ts += binary.BigEndian.Uint32(r[3:])
				}
				tag++
				given[tag] = true
				b.Push(Packet{Seq: seq, Timestamp: ts, Payload: []byte{tag}, Arrival: now})
			}
			st := b.Stats()
			if st.Buffered > 20 {
				t.Fatalf("buffered %d packets over a cap of 20", st.Buffered)
			}
			if st.TargetDelay < defaultMinDelay || st.TargetDelay > defaultMaxDelay {
				t.Fatalf("target %v outside [min, max]", st.TargetDelay)
			}
			if len(b.pkts) > 1 {
				for i := 1; i < len(b.pkts); i++ {
					if b.pkts[i].seq <= b.pkts[i-1].seq {
						t.Fatalf("buffer out of order: %d after %d", b.pkts[i].seq, b.pkts[i-1].seq)
					}
				}
				if b.pkts[len(b.pkts)-1].ts-b.pkts[0].ts > b.span && len(b.pkts) > 1 {
					t.Fatalf("buffer spans %d samples", b.pkts[len(b.pkts)-1].ts-b.pkts[0].ts)
				}
			}
		}
	})
}
