package overlay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"parley/identity"
	"parley/internal/clockwait"
)

// Capacity probing: the sender writes a burst of filler frames back to back; the
// receiver times the burst from its first to its last frame and reports the rate.
// The burst is bounded in bytes (ProbeBytes), so on a slow link it takes longer
// instead of costing more. The result is a lower bound of the link's capacity while
// other traffic runs, which is what "spare bandwidth" means to relay selection.
const (
	ProbeBytes     = 64 << 10
	probeFrameSize = 8 << 10
	probeFrames    = ProbeBytes / probeFrameSize
)

// ErrProbeTimeout is returned when a probe's report does not come back in time.
var ErrProbeTimeout = errors.New("capacity probe timed out")

type probeState struct {
	mu sync.Mutex
	// receiver side
	rxID            uint32
	rxFirst, rxLast time.Time
	rxBytes         uint32
	rxSeen          uint16
	// sender side
	nextID  uint32
	waiting map[uint32]chan probeResult
	last    probeResult
}

type probeResult struct {
	Bytes    uint32
	Duration time.Duration
	At       time.Time
}

// Bps is the measured rate in bits per second.
func (r probeResult) Bps() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Bytes) * 8 / r.Duration.Seconds()
}

// probeRxQuiet is how long after a received probe frame RTT samples are ignored:
// more than the gap between two frames of a 64 KiB burst even on a slow link.
const probeRxQuiet = 3 * time.Second

// onProbe times a probe burst; at its last frame it reports the rate to the sender
// and returns it (done). A payload that does not decode changes nothing.
func (p *probeState) onProbe(l *Link, payload []byte, now time.Time) (bps float64, done bool, err error) {
	h, err := decodeProbe(payload)
	if err != nil {
		return 0, false, err
	}
	p.mu.Lock()
	if h.ID != p.rxID || h.Index == 0 {
		p.rxID, p.rxFirst, p.rxBytes, p.rxSeen = h.ID, now, 0, 0
	}
	// Our pings' pongs come back behind the burst: do not sample them. Each frame
	// extends the quiet spell a little, so a burst that never finishes (a peer
	// that sends one frame and stops) silences RTT sampling for seconds, not for
	// as long as it likes.
	l.quality.quiet(now.Add(-time.Second), now.Add(probeRxQuiet))
	p.rxLast = now
	p.rxBytes += uint32(len(payload) + frameHeaderLen)
	p.rxSeen++
	done = h.Index == h.Count-1
	// The first frame only starts the clock: its bytes arrived before it did.
	bytes := p.rxBytes - uint32(len(payload)+frameHeaderLen)
	elapsed := p.rxLast.Sub(p.rxFirst)
	p.mu.Unlock()
	if !done {
		return 0, false, nil
	}
	l.quality.quiet(now.Add(-time.Second), now.Add(500*time.Millisecond))
	l.send(TypeProbeReport, appendProbeReport(nil, probeReport{
		ID: h.ID, Bytes: bytes, Micros: uint32(min(elapsed.Microseconds(), 1<<32-1)),
	}))
	return probeResult{Bytes: bytes, Duration: elapsed}.Bps(), true, nil
}

// onReport hands a probe report to the ProbeCapacity call waiting for it.
func (p *probeState) onReport(payload []byte) error {
	r, err := decodeProbeReport(payload)
	if err != nil {
		return err
	}
	res := probeResult{Bytes: r.Bytes, Duration: time.Duration(r.Micros) * time.Microsecond, At: time.Now()}
	p.mu.Lock()
	ch := p.waiting[r.ID]
	delete(p.waiting, r.ID)
	if ch != nil {
		p.last = res
	}
	p.mu.Unlock()
	if ch != nil {
		ch <- res
	}
	return nil
}

// ProbeCapacity measures the link to peer with one bounded burst and returns the
// rate in bits per second. It waits for the peer's report (at most ctx's deadline).
func (o *Overlay) ProbeCapacity(ctx context.Context, peer identity.PeerID) (float64, error) {
	l := o.Link(peer)
	if l == nil {
		return 0, ErrNoLink
	}
	p := &l.probe
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	if p.waiting == nil {
		p.waiting = map[uint32]chan probeResult{}
	}
	ch := make(chan probeResult, 1)
	p.waiting[id] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.waiting, id)
		p.mu.Unlock()
	}()
	// Pings sent during the burst queue behind it; their RTT is not the link's.
	start := time.Now()
	l.quality.quiet(start, start.Add(time.Hour))
	defer func() { l.quality.quiet(start, time.Now().Add(500*time.Millisecond)) }()
	filler := make([]byte, probeFrameSize-probeHeaderLen)
	for i := 0; i < probeFrames; i++ {
		hdr := appendProbeHeader(make([]byte, 0, probeFrameSize), probeHeader{ID: id, Index: uint16(i), Count: probeFrames})
		// Wait for queue room rather than fail: the burst must be complete to count.
		for {
			err := l.send(TypeProbe, append(hdr, filler...))
			if err == nil {
				break
			}
			if !errors.Is(err, ErrQueueFull) {
				return 0, fmt.Errorf("probe %s: %w", peer.Short(), err)
			}
			if !clockwait.Sleep(ctx, 5*time.Millisecond) {
				return 0, ErrProbeTimeout
			}
		}
	}
	o.stats.Add("probe_bytes_sent", ProbeBytes)
	select {
	case res := <-ch:
		return res.Bps(), nil
	case <-ctx.Done():
		return 0, ErrProbeTimeout
	case <-l.Done():
		return 0, ErrNoLink
	}
}

// LastProbe is the most recent capacity measurement of the link to peer (0 if none).
func (o *Overlay) LastProbe(peer identity.PeerID) (bps float64, at time.Time) {
	l := o.Link(peer)
	if l == nil {
		return 0, time.Time{}
	}
	l.probe.mu.Lock()
	defer l.probe.mu.Unlock()
	return l.probe.last.Bps(), l.probe.last.At
}
