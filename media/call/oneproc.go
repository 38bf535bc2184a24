package call

import (
	"os"
	"runtime"
	"sync"
)

// Config.OneProcInCalls: the process runs Go code on one P while a call's
// audio runs.
//
// Why: a received packet crosses four goroutines in pion (the ICE socket
// reader, the mux, the SRTP session, the track reader: each hands it on
// through a packetio buffer). With a second P idle, every hand-off makes the
// runtime wake another thread to run the readied goroutine (wakep), which
// spins, finds little and sleeps again — a runtime trace of one call showed
// ~3 P wake-ups and ~10 context switches per received packet, and epoll_wait
// and futex were a third of the call's CPU profile. On one P the readied
// goroutine runs next on the same thread. A call needs ~4 % of one core, so
// it loses nothing; what shares the process during a call (a file transfer,
// a busy overlay) gets one core of Go code instead of all of them. Measured
// with cmd/benchcall -only-baresip (docs/benchmarks.md, "Next to baresip"):
// Parley ÷ baresip with SRTP went from 1.88 / 1.76× to 1.15–1.29 / 1.24–1.41×
// (caller / callee medians of three runs), the context switches a call adds
// from ~1,200 to ~450–800 a second.
//
// Not done when the user set GOMAXPROCS: that choice stands. Not kept past
// oneProcMaxCalls calls with audio at once either: a node bridging several
// phones' or browser guests' calls (G.711 transcoding costs ~6 % of a core
// a call, docs/benchmarks.md "SIP phones") would otherwise run them all, and
// everything else, on one core.
const oneProcMaxCalls = 2

type oneProcState struct {
	mu   sync.Mutex
	n    int // calls holding it
	prev int // GOMAXPROCS before the first hold
}

var oneProc oneProcState

// holdOneProc sets GOMAXPROCS to 1 for as long as any call holds it; release
// (call it once) restores the value seen before the first hold. Restoring by
// value rather than runtime.SetDefaultGOMAXPROCS keeps a value a test or an
// embedding program chose.
func holdOneProc() (release func()) {
	if os.Getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	oneProc.mu.Lock()
	if oneProc.n == 0 {
		oneProc.prev = runtime.GOMAXPROCS(0)
	}
	oneProc.n++
	oneProc.apply()
	oneProc.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			oneProc.mu.Lock()
			defer oneProc.mu.Unlock()
			oneProc.n--
			oneProc.apply()
		})
	}
}

// apply sets GOMAXPROCS for the calls holding it now (oneProc.mu held): 1 for
// one to oneProcMaxCalls of them, the value from before otherwise.
func (o *oneProcState) apply() {
	want := o.prev
	if o.n >= 1 && o.n <= oneProcMaxCalls {
		want = 1
	}
	if runtime.GOMAXPROCS(0) != want {
		runtime.GOMAXPROCS(want)
	}
}
