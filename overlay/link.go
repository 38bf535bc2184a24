package overlay

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"parley/identity"
	"parley/internal/bufpool"
	"parley/internal/counters"
	"parley/internal/wire"
)

// ErrQueueFull is returned when a link's send queue is full: the peer is not reading
// fast enough, and the caller decides whether to retry or drop.
var ErrQueueFull = errors.New("link send queue full")

// ErrNoLink means there is no direct link to the peer.
var ErrNoLink = errors.New("no link to peer")

// linkQueueLen bounds the ordinary lane in frames: a new link's record sync
// (syncTo) queues one frame per record held, and most of them are small.
const linkQueueLen = 1024

// linkQueueBytes bounds the ordinary lane in bytes, frame headers included. In
// frames alone 1,024 frames of up to MaxFrame let a slow reader make us hold
// 1 GiB per link (issue 16: it asked for 1 MiB pongs and read them slowly). 4 MiB
// holds a record sync of 1,024 records of 4 KiB (a record listing 200
// neighbours); a frame is refused (ErrQueueFull, link_send_bytes_full) when it
// would take the lane past the bound, except that an empty lane takes any one
// frame, so a MaxFrame application frame can always be sent. A link's ordinary
// lane thus holds at most linkQueueBytes; TestLinkQueueBoundedInBytes checks it,
// TestHostileLinkResources (itest) re-measures what it means for a node under
// attack.
const linkQueueBytes = 4 << 20

// bulkQueueLen bounds the bulk lane (file chunks): few frames, so a bulk sender
// feels back-pressure at once and the link's memory stays small.
const bulkQueueLen = 8

// bulkQueueBytes bounds the bulk lane in bytes as linkQueueBytes does the
// ordinary one: eight 256 KiB file chunks with their routing and frame headers
// fit, four frames of MaxFrame do not.
const bulkQueueBytes = 3 << 20

// FirstBulkType is the first application frame type carried on the bulk lane.
// Frames of types >= FirstBulkType are written only when no ordinary frame waits,
// and relays forward them on their own bulk lane (dropping them, not blocking,
// when it is full). Bulk senders must therefore retransmit end to end.
const FirstBulkType = wire.FrameFirstBulk

// Link is one authenticated connection to a neighbour.
type Link struct {
	Peer     identity.PeerID
	PubKey   ed25519.PublicKey
	Outbound bool // this side dialed
	Remote   netip.AddrPort
	Since    time.Time

	conn   net.Conn
	queue  chan []byte
	bulk   chan []byte // low-priority lane, see FirstBulkType
	urgent chan []byte // high-priority lane (urgentlane.go)
	closed chan struct{}
	once   sync.Once
	lastRx atomic.Int64 // unix ns of the last frame received
	// superseded is set when the peer said this connection lost the tie-break, so
	// its end is not a peer going away.
	superseded atomic.Bool
	quality    rttStats
	probe      probeState
	lazy       lazyLink // references and wants waiting to go out (lazy.go)
	bufSize    int      // read and write buffers (Config.LinkBuffer; 0: default)

	// closeWhenDrained is set by supersede when its superseded frame did not fit
	// in a full queue: the writer then lingers and closes once the queue is
	// drained, as it does after writing that frame.
	closeWhenDrained atomic.Bool

	// queued and bulkQueued are the bytes waiting in queue and bulk (bounded by
	// linkQueueBytes and bulkQueueBytes); the writer subtracts what it takes.
	queued, bulkQueued atomic.Int64
	// urgentQueued is the bytes waiting in urgent; urgentTokens rate-limits
	// the lane (urgentlane.go).
	urgentQueued atomic.Int64
	urgentTokens tokenBucket
	pttTokens    tokenBucket // the PTT share of the urgent lane (pttlane.go)
	// bulkRoom wakes a sendBulk waiting for bulk bytes (one token; a waiter that
	// gets room passes it on, so no waiter sleeps while room is left).
	bulkRoom chan struct{}
	// stats is the overlay's counter set (nil in tests that make a bare link).
	stats *counters.Set
}

func newLink(conn net.Conn, peer identity.PeerID, pub ed25519.PublicKey, outbound bool, now time.Time) *Link {
	l := &Link{
		Peer: peer, PubKey: pub, Outbound: outbound, Since: now,
		conn: conn, queue: make(chan []byte, linkQueueLen), closed: make(chan struct{}),
		bulk: make(chan []byte, bulkQueueLen), bulkRoom: make(chan struct{}, 1),
		urgent: make(chan []byte, urgentQueueLen),
	}
	if ap, err := netip.ParseAddrPort(conn.RemoteAddr().String()); err == nil {
		l.Remote = ap
	}
	l.lastRx.Store(now.UnixNano())
	return l
}

// dialer is the peer that dialed this connection; the tie-break keeps the link whose
// dialer has the lower ID.
func (l *Link) dialer(self identity.PeerID) identity.PeerID {
	if l.Outbound {
		return self
	}
	return l.Peer
}

// reserve takes n bytes of a lane's byte budget, or fails when they would take it
// past limit; a lane holding nothing takes any one frame (see linkQueueBytes).
func reserve(queued *atomic.Int64, n, limit int64) bool {
	if total := queued.Add(n); total > limit && total != n {
		queued.Add(-n)
		return false
	}
	return true
}

// countFull counts a frame refused for want of queue bytes.
func (l *Link) countFull() {
	if l.stats != nil {
		l.stats.Add("link_send_bytes_full", 1)
	}
}

// send queues an encoded frame without blocking.
func (l *Link) send(typ uint8, payload []byte) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("frame of %d bytes exceeds limit %d", len(payload), MaxFrame)
	}
	select {
	case <-l.closed:
		return ErrNoLink
	default:
	}
	if urgentFrame(typ, payload) && l.sendUrgent(typ, payload) {
		return nil
	}
	if pttFrame(typ, payload) {
		return l.sendPTT(typ, payload)
	}
	n := int64(frameHeaderLen + len(payload))
	if !reserve(&l.queued, n, linkQueueBytes) {
		l.countFull()
		return ErrQueueFull
	}
	frame := AppendFrame(make([]byte, 0, n), typ, payload)
	select {
	case l.queue <- frame:
		return nil
	default:
		l.queued.Add(-n)
		return ErrQueueFull
	}
}

// sendBulk queues a frame on the bulk lane, waiting for room until ctx ends
// (wait false: fail at once with ErrQueueFull instead).
func (l *Link) sendBulk(ctx context.Context, typ uint8, payload []byte, wait bool) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("frame of %d bytes exceeds limit %d", len(payload), MaxFrame)
	}
	n := int64(frameHeaderLen + len(payload))
	// The byte budget is taken first and waited for like a channel slot: the
	// writer gives bytes back as it takes frames, and then a waiter tries again.
	for !reserve(&l.bulkQueued, n, bulkQueueBytes) {
		if !wait {
			l.countFull()
			return ErrQueueFull
		}
		select {
		case <-l.closed:
			return ErrNoLink
		case <-ctx.Done():
			return ctx.Err()
		case <-l.bulkRoom:
		}
	}
	l.wakeBulk()
	// Bulk frames are large and many (a 256 KiB file chunk each): their buffers
	// come from the pool and go back once written (writeLoop), so a transfer
	// makes no garbage here.
	frame := AppendFrame(bufpool.Get(int(n))[:0], typ, payload)
	fail := func(err error) error {
		l.bulkQueued.Add(-n)
		l.wakeBulk()
		bufpool.Put(frame)
		return err
	}
	select {
	case <-l.closed:
		return fail(ErrNoLink)
	case l.bulk <- frame:
		return nil
	default:
	}
	if !wait {
		return fail(ErrQueueFull)
	}
	select {
	case <-l.closed:
		return fail(ErrNoLink)
	case l.bulk <- frame:
		return nil
	case <-ctx.Done():
		return fail(ctx.Err())
	}
}

// wakeBulk tells one sendBulk waiting for bulk bytes to look again.
func (l *Link) wakeBulk() {
	select {
	case l.bulkRoom <- struct{}{}:
	default:
	}
}

// Close ends the link; safe to call more than once.
func (l *Link) Close() {
	l.once.Do(func() {
		close(l.closed)
		l.conn.Close()
	})
}

// bufferSize is the size of the link's read and write buffers (Config.LinkBuffer).
func (l *Link) bufferSize() int {
	if l.bufSize > 0 {
		return l.bufSize
	}
	return defaultLinkBuffer
}

// defaultLinkBuffer is Config.LinkBuffer's default.
const defaultLinkBuffer = 64 << 10

// Done is closed when the link is closed.
func (l *Link) Done() <-chan struct{} { return l.closed }

// writeLoop drains the queue, flushing when it runs dry so bursts share syscalls and
// TLS records. A write that stalls for 10 s means the peer is gone: the link closes.
//
// After a TypeSuperseded frame (supersede) the writer is what says the link's
// last frames are out: once it has written that frame and found the ordinary
// lane empty, it flushes and closes the link supersedeLinger later.
func (l *Link) writeLoop() {
	bw := bufio.NewWriterSize(l.conn, l.bufferSize())
	superseding, lingering := false, false
	for {
		var frame []byte
		bulk, urgent := false, false
		// Urgent frames first, then ordinary ones: a bulk frame is taken only
		// when neither waits.
		select {
		case <-l.closed:
			return
		case frame = <-l.urgent:
			urgent = true
		default:
			select {
			case <-l.closed:
				return
			case frame = <-l.urgent:
				urgent = true
			case frame = <-l.queue:
			default:
				select {
				case <-l.closed:
					return
				case frame = <-l.urgent:
					urgent = true
				case frame = <-l.queue:
				case frame = <-l.bulk:
					bulk = true
				}
			}
		}
		switch {
		case urgent:
			l.urgentQueued.Add(-int64(len(frame)))
		case bulk:
			l.bulkQueued.Add(-int64(len(frame)))
			l.wakeBulk()
		default:
			l.queued.Add(-int64(len(frame)))
		}
		l.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		l.quality.countTx(frame)
		_, err := bw.Write(frame)
		if bulk {
			bufpool.Put(frame) // written or copied into bw: sendBulk's buffer is free
		}
		if err != nil {
			l.Close()
			return
		}
		superseding = superseding || (!bulk && frame[1] == TypeSuperseded) || l.closeWhenDrained.Load()
		if superseding && !lingering && len(l.queue) == 0 {
			if err := bw.Flush(); err != nil {
				l.Close()
				return
			}
			lingering = true
			time.AfterFunc(supersedeLinger, l.Close)
		}
		// An urgent frame is flushed at once: it must not wait for the
		// buffer to fill with the frames it overtook.
		if urgent || len(l.queue) == 0 && len(l.bulk) == 0 && len(l.urgent) == 0 {
			if err := bw.Flush(); err != nil {
				l.Close()
				return
			}
		}
	}
}

// Quality is a snapshot of the link's measured quality.
type Quality struct {
	SRTT    time.Duration
	RTTVar  time.Duration
	MinRTT  time.Duration
	LastRTT time.Duration
	// Jitter is the smoothed difference between consecutive RTT samples (RFC 3550's
	// interarrival jitter estimator applied to ping round trips).
	Jitter  time.Duration
	Samples uint64
	Sent    uint64
	Lost    uint64
	// Loss is the recent ping loss rate, an EWMA over the last ~10 pings. Over TCP
	// a ping is lost only when the link is all but dead; the path's packet loss is
	// in the transport counters below.
	Loss float64
	// Transport says SegsSent, SegsRetrans and SegsBytes were read from the kernel
	// (Linux TCP_INFO): data segments sent on the link's connection so far, how
	// many were sent again because the path lost them, and the bytes they carried.
	Transport                        bool
	SegsSent, SegsRetrans, SegsBytes uint64
	// TxBytes/RxBytes count frame bytes; TxBps/RxBps are the recent rates seen
	// passively (EWMA over ping intervals), i.e. the throughput the link carries.
	TxBytes, RxBytes uint64
	TxBps, RxBps     float64
}

// rttStats keeps RFC 6298 style smoothed RTT and variance from ping/pong, jitter,
// loss, and the passive throughput counters.
type rttStats struct {
	mu      sync.Mutex
	q       Quality
	pending map[uint64]time.Time
	nonce   uint64
	// byte counters since the last rate update; probeTx/probeRx are the part of
	// them that was capacity-probe bursts (TestProbeBurstIsNotCarriedLoad)
	tx, rx           atomic.Uint64
	probeTx, probeRx atomic.Uint64
	rateAt           time.Time
	onSample         func(rtt time.Duration)
	// Pings sent within [quietFrom, quietUntil) are not sampled: they queued behind
	// a capacity probe's burst, and their RTT says nothing about the link at rest.
	quietFrom, quietUntil time.Time
}

// quiet marks a window in which ping samples are discarded.
func (s *rttStats) quiet(from, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quietUntil.Before(from) || s.quietFrom.IsZero() {
		s.quietFrom = from
	}
	s.quietUntil = until
}

// countTx and countRx are called per frame; they are lock-free on the hot path.
// A probe burst is counted as bytes but not as carried load: the spare bandwidth a
// node publishes is capacity minus load, and a probe's own burst is not load.
func (s *rttStats) countTx(frame []byte) {
	s.tx.Add(uint64(len(frame)))
	if len(frame) > 1 && frame[1] == TypeProbe {
		s.probeTx.Add(uint64(len(frame)))
	}
}

func (s *rttStats) countRx(typ uint8, n int) {
	s.rx.Add(uint64(n))
	if typ == TypeProbe {
		s.probeRx.Add(uint64(n))
	}
}

// updateRates folds the bytes since the last call into the EWMA rates.
func (s *rttStats) updateRates(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// min: a probe frame counted between the two swaps is never subtracted from a
	// total that does not hold it.
	tx, rx := s.tx.Swap(0), s.rx.Swap(0)
	ptx, prx := min(s.probeTx.Swap(0), tx), min(s.probeRx.Swap(0), rx)
	s.q.TxBytes += tx
	s.q.RxBytes += rx
	if !s.rateAt.IsZero() {
		if dt := now.Sub(s.rateAt).Seconds(); dt > 0 {
			s.q.TxBps = 0.7*s.q.TxBps + 0.3*float64(tx-ptx)/dt
			s.q.RxBps = 0.7*s.q.RxBps + 0.3*float64(rx-prx)/dt
		}
	}
	s.rateAt = now
}

func (s *rttStats) nextPing(now time.Time) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[uint64]time.Time{}
	}
	// A ping unanswered for 5 s is counted lost and forgotten, bounding the map.
	for n, at := range s.pending {
		if now.Sub(at) > 5*time.Second {
			delete(s.pending, n)
			s.q.Lost++
			s.q.Loss = 0.9*s.q.Loss + 0.1
		}
	}
	s.nonce++
	s.pending[s.nonce] = now
	s.q.Sent++
	return appendPing(make([]byte, 0, pingLen), pingPayload{Nonce: s.nonce, SentMicros: uint64(now.UnixMicro())})
}

// onPong samples the RTT of the ping a pong answers; a pong for no pending ping
// (late, or made up) is ignored, and one that does not decode is an error.
func (s *rttStats) onPong(payload []byte, now time.Time) error {
	pong, err := decodePong(payload)
	if err != nil {
		return err
	}
	s.mu.Lock()
	sent, ok := s.pending[pong.Nonce]
	if !ok {
		s.mu.Unlock()
		return nil
	}
	delete(s.pending, pong.Nonce)
	if !sent.Before(s.quietFrom) && sent.Before(s.quietUntil) {
		s.mu.Unlock()
		return nil
	}
	rtt := max(now.Sub(sent), time.Microsecond)
	q := &s.q
	q.Loss *= 0.9
	if q.Samples > 0 {
		d := rtt - q.LastRTT
		if d < 0 {
			d = -d
		}
		q.Jitter += (d - q.Jitter) / 16
	}
	q.LastRTT = rtt
	if q.Samples == 0 {
		q.SRTT, q.RTTVar, q.MinRTT = rtt, rtt/2, rtt
	} else {
		diff := q.SRTT - rtt
		if diff < 0 {
			diff = -diff
		}
		q.RTTVar = (3*q.RTTVar + diff) / 4
		q.SRTT = (7*q.SRTT + rtt) / 8
		q.MinRTT = min(q.MinRTT, rtt)
	}
	q.Samples++
	hook := s.onSample
	s.mu.Unlock()
	// Outside the lock: the hook may read this link's quality.
	if hook != nil {
		hook(rtt)
	}
	return nil
}

func (s *rttStats) snapshot() Quality {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q
}

// SRTT is the link's smoothed round-trip time, without Quality's getsockopt: a
// graph pass and a record read it for every link, and the syscall per link was
// 4 % of an idle node's CPU in a hall of 40 (cmd/benchhall with PARLEY_CPUPROFILE).
func (l *Link) SRTT() time.Duration { return l.quality.snapshot().SRTT }

// Quality returns the link's current measurements, with the kernel's segment
// counters where it has them (one getsockopt per call).
func (l *Link) Quality() Quality {
	q := l.quality.snapshot()
	if sent, retrans, bytes, ok := transportCounters(l.conn); ok {
		q.Transport, q.SegsSent, q.SegsRetrans, q.SegsBytes = true, sent, retrans, bytes
	}
	return q
}
