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
// published at most every 250 ms in a small overlay, a little less often in a
// large one, and never more than a second apart.
func TestPeriodsGrowWithTheOverlay(t *testing.T) {
	for _, tc := range []struct {
		online         int
		refresh, gap   time.Duration
		shortRefresh   time.Duration // with a test's 1 s RefreshEvery
		shortGapOf10ms time.Duration // with a test's 10 ms PublishMinGap
	}{
		{10, time.Minute, 250 * time.Millisecond, time.Second, 10 * time.Millisecond},
		{60, time.Minute, time.Second, time.Second, time.Second},
		{40, time.Minute, 800 * time.Millisecond, time.Second, 800 * time.Millisecond},
		{200, 200 * time.Second, time.Second, 200 * time.Second, time.Second},
		{4096, recordExpiry / 2, maxPublishGap, recordExpiry / 2, maxPublishGap},
	} {
		if got := refreshPeriodFor(time.Minute, tc.online); got != tc.refresh {
			t.Errorf("%d online: refreshed every %v, want %v", tc.online, got, tc.refresh)
		}
		if got := refreshPeriodFor(time.Second, tc.online); got != tc.shortRefresh {
			t.Errorf("%d online, 1 s base: refreshed every %v, want %v", tc.online, got, tc.shortRefresh)
		}
		if got := publishGapFor(250*time.Millisecond, tc.online); got != tc.gap {
			t.Errorf("%d online: own records at most every %v, want %v", tc.online, got, tc.gap)
		}
		if got := publishGapFor(10*time.Millisecond, tc.online); got != tc.shortGapOf10ms {
			t.Errorf("%d online, 10 ms base: own records at most every %v, want %v", tc.online, got, tc.shortGapOf10ms)
		}
	}
}

// Records held but not online - a flood of throwaway identities - stretch
// nothing: the periods count peers online.
func TestRecordFloodDoesNotStretchThePeriods(t *testing.T) {
	a := startNode(t, 1, "a")
	for i := range 700 {
		seed := make([]byte, ed25519.SeedSize)
		binary.BigEndian.PutUint32(seed, uint32(i+1000))
		author, err := identity.FromSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := DecodeRecord(signedRecord(t, author, 1, fmt.Sprint("p", i)))
		if err != nil {
			t.Fatal(err)
		}
		a.ov.Seed(rec)
	}
	if got := a.ov.refreshPeriod(); got != a.ov.cfg.RefreshEvery {
		t.Errorf("700 offline records: refreshed every %v, want %v", got, a.ov.cfg.RefreshEvery)
	}
	if got := a.ov.publishGap(); got != a.ov.cfg.PublishMinGap {
		t.Errorf("700 offline records: own records at most every %v, want %v", got, a.ov.cfg.PublishMinGap)
	}
}
