package discovery

import (
	"testing"

	"parley/identity"
)

// BenchmarkDecodeBeacon is the per-datagram cost of a valid beacon (parse + Ed25519
// verify); a forged one costs the same, which sets the price of a beacon flood.
func BenchmarkDecodeBeacon(b *testing.B) {
	id, _ := identity.Generate()
	pkt := EncodeBeacon(id, KindAnnounce, 1, 48556, "bench")
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, err := DecodeBeacon(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRejectGarbage is the cost of dropping a datagram that fails before the
// signature check (wrong magic).
func BenchmarkRejectGarbage(b *testing.B) {
	pkt := make([]byte, 200)
	for b.Loop() {
		if _, err := DecodeBeacon(pkt); err == nil {
			b.Fatal("garbage accepted")
		}
	}
}
