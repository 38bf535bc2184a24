package overlay

import (
	"net/netip"
	"testing"
	"time"

	"parley/identity"
)

func benchRecord(b *testing.B, neighbours int) *Record {
	id, _ := identity.Generate()
	r := &Record{Seq: 1, Issued: time.Now(), Name: "bench", Status: "in a meeting",
		Addrs: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:48556")}, Caps: []string{"chat/1"}}
	for i := 0; i < neighbours; i++ {
		var nid identity.PeerID
		nid[0], nid[1] = byte(i), byte(i>>8)
		r.Neighbours = append(r.Neighbours, NeighbourInfo{ID: nid, RTT: time.Millisecond})
	}
	if err := r.Sign(id); err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkRecordVerify is the cost of accepting one flooded record (decode + Ed25519
// verify), which bounds how many record updates a node can absorb per second.
func BenchmarkRecordVerify(b *testing.B) {
	for _, n := range []int{4, 64} {
		r := benchRecord(b, n)
		b.Run(map[int]string{4: "4-neighbours", 64: "64-neighbours"}[n], func(b *testing.B) {
			b.SetBytes(int64(len(r.Raw())))
			for b.Loop() {
				if _, err := DecodeRecord(r.Raw()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRecordSign(b *testing.B) {
	r := benchRecord(b, 16)
	id, _ := identity.Generate()
	for b.Loop() {
		r.Seq++
		if err := r.Sign(id); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFrameEncode(b *testing.B) {
	payload := make([]byte, 256)
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		buf = AppendFrame(buf[:0], FirstAppType, payload)
	}
}
