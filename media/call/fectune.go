package call

import (
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"

	"parley/identity"
)

// fecTuner sets how much loss an encoder's in-band FEC is tuned for from the
// receiver reports of the people listening to it (RTCP fraction lost, about one
// report a second from each).
//
// Why adapt at all: told to expect loss, Opus puts a low-rate copy of the
// previous frame into every packet (a second SILK pass per frame) and narrows
// the audio band to make room for it within the bitrate. On a LAN that loses
// nothing this buys nothing and costs CPU and sound. So, like WebRTC's own Opus
// wrapper, the expected loss follows what the listeners report: 0 on a clean
// link, and a step up as soon as a report shows loss. The price is that the
// first lost packets of a link that turns bad are concealed rather than
// recovered, for up to one report interval.
//
// One encoder may feed several listeners (a mesh member sends the same stream
// to every leg), so the target is the worst listener's level.
type fecTuner struct {
	mu        sync.Mutex
	listeners map[identity.PeerID]fecListener
	target    atomic.Int32 // what the encoder should be set to
}

// fecListener is one listener's averaged loss (percent) and the level it asks for.
type fecListener struct {
	avg   float64
	level int
}

// fecLevels are the expected-loss settings (percent) the tuner chooses between.
// Few and far apart, so a wobbling report does not retune the encoder each second.
var fecLevels = []int{0, 2, 5, 10, 20, 30}

// fecSmoothing is the weight of a new report in the per-listener average: half,
// so one report of loss already lifts the level and one clean report does not
// drop it.
const fecSmoothing = 0.5

// fecDropBelow is how far under a lower level the average must be before a
// listener steps down to it: hysteresis against flapping between two levels.
const fecDropBelow = 0.5

func newFECTuner() *fecTuner {
	return &fecTuner{listeners: map[identity.PeerID]fecListener{}}
}

// report takes one receiver report's fraction lost (0–255, as RTCP carries it)
// from listener.
func (f *fecTuner) report(listener identity.PeerID, fractionLost uint8) {
	pct := float64(fractionLost) * 100 / 256
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.listeners[listener]
	if !ok {
		l.avg = pct
	} else {
		l.avg += fecSmoothing * (pct - l.avg)
	}
	// Up at once to the level that covers the average; down only to a level
	// that would still cover twice it.
	if up := levelFor(l.avg); up > l.level {
		l.level = up
	} else if down := levelFor(l.avg / fecDropBelow); down < l.level {
		l.level = down
	}
	f.listeners[listener] = l
	f.publishLocked()
}

// forget drops a listener that left; the target follows the ones that remain.
func (f *fecTuner) forget(listener identity.PeerID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.listeners, listener)
	f.publishLocked()
}

func (f *fecTuner) publishLocked() {
	worst := 0
	for _, l := range f.listeners {
		worst = max(worst, l.level)
	}
	f.target.Store(int32(worst))
}

// expectedLoss is the level the encoder should be set to now (percent).
func (f *fecTuner) expectedLoss() int { return int(f.target.Load()) }

// levelFor is the smallest level that covers pct; anything under half a percent
// (one packet in 200) counts as a clean link.
func levelFor(pct float64) int {
	if pct < 0.5 {
		return 0
	}
	for _, l := range fecLevels {
		if float64(l) >= pct {
			return l
		}
	}
	return fecLevels[len(fecLevels)-1]
}

// fractionLostFor finds, in RTCP packets a sender read, the reception report
// about ssrc (our stream): receiver reports and the report blocks of sender
// reports alike. ok is false when none of them is about it.
func fractionLostFor(pkts []rtcp.Packet, ssrc uint32) (fraction uint8, ok bool) {
	for _, p := range pkts {
		var blocks []rtcp.ReceptionReport
		switch r := p.(type) {
		case *rtcp.ReceiverReport:
			blocks = r.Reports
		case *rtcp.SenderReport:
			blocks = r.Reports
		}
		for _, b := range blocks {
			if b.SSRC == ssrc {
				fraction, ok = b.FractionLost, true
			}
		}
	}
	return fraction, ok
}
