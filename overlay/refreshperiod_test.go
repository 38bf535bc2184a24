package overlay

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"parley/identity"
)

// The own record is refreshed every minute in a small overlay and less often in
// a large one, so that every node takes in about one refreshed record a second,
// and never so rarely that it could expire between refreshes; changes are
// published at most every 250 ms in a small overlay, less often in a large one.
func TestRefreshPeriodGrowsWithTheOverlay(t *testing.T) {
	a := startNode(t, 1, "a")
	seeded := 0
	for _, tc := range []struct {
		records int
		want    time.Duration
	}{{10, time.Minute}, {60, time.Minute}, {200, 200 * time.Second}, {700, recordExpiry / 2}} {
		for ; seeded < tc.records; seeded++ {
			seed := make([]byte, ed25519.SeedSize)
			binary.BigEndian.PutUint32(seed, uint32(seeded+1000))
			author, err := identity.FromSeed(seed)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := DecodeRecord(signedRecord(t, author, 1, fmt.Sprint("p", seeded)))
			if err != nil {
				t.Fatal(err)
			}
			a.ov.Seed(rec)
		}
		if got := a.ov.refreshPeriod(); got != tc.want {
			t.Errorf("%d records: refreshed every %v, want %v", tc.records, got, tc.want)
		}
		wantGap := max(a.ov.cfg.PublishMinGap, time.Duration(tc.records)*publishSpacing)
		if tc.records*int(publishSpacing) <= int(250*time.Millisecond) {
			wantGap = a.ov.cfg.PublishMinGap
		}
		if got := a.ov.publishGap(); got != wantGap {
			t.Errorf("%d records: own records at most every %v, want %v", tc.records, got, wantGap)
		}
	}
}
