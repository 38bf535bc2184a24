package call

import (
	"testing"

	"github.com/pion/rtcp"

	"parley/identity"
)

// frac is percent as RTCP's 8-bit fraction lost.
func frac(pct float64) uint8 { return uint8(pct * 256 / 100) }

func TestFECTunerFollowsReports(t *testing.T) {
	var alice, bob identity.PeerID
	alice[0], bob[0] = 1, 2
	steps := []struct {
		name string
		from identity.PeerID
		pct  float64
		want int
	}{
		{"a clean link asks for nothing", alice, 0, 0},
		{"a trace of loss is still clean", alice, 0.3, 0},
		{"5 % loss: one report lifts the level", alice, 5, 5},
		{"5 % again settles at 5", alice, 5, 5},
		{"one clean report does not drop it", alice, 0, 5},
		{"the average (1.25 %) must cover half a level before it steps down", alice, 0, 2},
		{"0.47 % still keeps 2 (it would not cover 0.95 %)", alice, 0, 2},
		{"clean for longer: off", alice, 0, 0},
		{"a second listener with worse loss sets the target", bob, 20, 20},
		{"the better listener's report does not lower it", alice, 0, 20},
		{"very heavy loss is capped at the top level", bob, 90, 30},
	}
	f := newFECTuner()
	for _, s := range steps {
		f.report(s.from, frac(s.pct))
		if got := f.expectedLoss(); got != s.want {
			t.Fatalf("%s: after %.1f %% from %x, expected loss %d, want %d", s.name, s.pct, s.from[:1], got, s.want)
		}
	}
	f.forget(bob)
	if got := f.expectedLoss(); got != 0 {
		t.Fatalf("after the lossy listener left: %d, want alice's 0", got)
	}
}

func TestFECTunerDoesNotFlapAroundABoundary(t *testing.T) {
	f := newFECTuner()
	var p identity.PeerID
	changes, last := 0, f.expectedLoss()
	// Reports wobbling between 1.5 % and 3 %, across the 2 % level's edge.
	for i := range 100 {
		pct := 1.5
		if i%2 == 1 {
			pct = 3
		}
		f.report(p, frac(pct))
		if got := f.expectedLoss(); got != last {
			changes++
			last = got
		}
	}
	// 0 → 2 on the first report, → 5 on the first 3 %, then steady.
	if changes > 2 {
		t.Fatalf("level changed %d times over 100 wobbling reports, want at most 2", changes)
	}
	if last != 5 {
		t.Fatalf("settled at %d %%, want 5 (covers the worst reports)", last)
	}
}

func TestFractionLostFor(t *testing.T) {
	const ours, theirs = 0x1111, 0x2222
	pkts := []rtcp.Packet{
		&rtcp.PictureLossIndication{MediaSSRC: ours},
		&rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: theirs, FractionLost: 200}}},
		&rtcp.SenderReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: ours, FractionLost: 13}}},
	}
	if got, ok := fractionLostFor(pkts, ours); !ok || got != 13 {
		t.Fatalf("ours: %d %v, want 13 true", got, ok)
	}
	if _, ok := fractionLostFor(pkts[:2], ours); ok {
		t.Fatal("found a report about our stream where there is none")
	}
}
