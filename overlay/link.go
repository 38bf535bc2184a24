package overlay

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"parley/identity"
	"parley/internal/bufpool"
)

// ErrQueueFull is returned when a link's send queue is full: the peer is not reading
// fast enough, and the caller decides whether to retry or drop.
var ErrQueueFull = errors.New("link send queue full")

// ErrNoLink means there is no direct link to the peer.
var ErrNoLink = errors.New("no link to peer")

const linkQueueLen = 1024

// bulkQueueLen bounds the bulk lane (file chunks): few frames, so a bulk sender
// feels back-pressure at once and the link's memory stays small.
const bulkQueueLen = 8

// FirstBulkType is the first application frame type carried on the bulk lane.
// Frames of types >= FirstBulkType are written only when no ordinary frame waits,
// and relays forward them on their own bulk lane (dropping them, not blocking,
// when it is full). Bulk senders must therefore retransmit end to end.
const FirstBulkType uint8 = 64

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
	closed chan struct{}
	once   sync.Once
	lastRx atomic.Int64 // unix ns of the last frame received
	// superseded is set when the peer said this connection lost the tie-break, so
	// its end is not a peer going away.
	superseded atomic.Bool
	quality    rttStats
	probe      probeState
	lazy       lazyLink // references and wants waiting to go out (lazy.go)
}

func newLink(conn net.Conn, peer identity.PeerID, pub ed25519.PublicKey, outbound bool, now time.Time) *Link {
	l := &Link{
		Peer: peer, PubKey: pub, Outbound: outbound, Since: now,
		conn: conn, queue: make(chan []byte, linkQueueLen), closed: make(chan struct{}),
		bulk: make(chan []byte, bulkQueueLen),
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

// send queues an encoded frame without blocking.
func (l *Link) send(typ uint8, payload []byte) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("frame of %d bytes exceeds limit %d", len(payload), MaxFrame)
	}
	frame := AppendFrame(make([]byte, 0, frameHeaderLen+len(payload)), typ, payload)
	select {
	case <-l.closed:
		return ErrNoLink
	default:
	}
	select {
	case l.queue <- frame:
		return nil
	default:
		return ErrQueueFull
	}
}

// sendBulk queues a frame on the bulk lane, waiting for room until ctx ends
// (wait false: fail at once with ErrQueueFull instead).
func (l *Link) sendBulk(ctx context.Context, typ uint8, payload []byte, wait bool) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("frame of %d bytes exceeds limit %d", len(payload), MaxFrame)
	}
	// Bulk frames are large and many (a 256 KiB file chunk each): their buffers
	// come from the pool and go back once written (writeLoop), so a transfer
	// makes no garbage here.
	frame := AppendFrame(bufpool.Get(frameHeaderLen + len(payload))[:0], typ, payload)
	select {
	case <-l.closed:
		bufpool.Put(frame)
		return ErrNoLink
	case l.bulk <- frame:
		return nil
	default:
	}
	if !wait {
		bufpool.Put(frame)
		return ErrQueueFull
	}
	select {
	case <-l.closed:
		bufpool.Put(frame)
		return ErrNoLink
	case l.bulk <- frame:
		return nil
	case <-ctx.Done():
		bufpool.Put(frame)
		return ctx.Err()
	}
}

// Close ends the link; safe to call more than once.
func (l *Link) Close() {
	l.once.Do(func() {
		close(l.closed)
		l.conn.Close()
	})
}

// Done is closed when the link is closed.
func (l *Link) Done() <-chan struct{} { return l.closed }

// writeLoop drains the queue, flushing when it runs dry so bursts share syscalls and
// TLS records. A write that stalls for 10 s means the peer is gone: the link closes.
func (l *Link) writeLoop() {
	bw := bufio.NewWriterSize(l.conn, 64<<10)
	for {
		var frame []byte
		bulk := false
		// Ordinary frames first: a bulk frame is taken only when none waits.
		select {
		case <-l.closed:
			return
		case frame = <-l.queue:
		default:
			select {
			case <-l.closed:
				return
			case frame = <-l.queue:
			case frame = <-l.bulk:
				bulk = true
			}
		}
		l.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		l.quality.countTx(len(frame))
		_, err := bw.Write(frame)
		if bulk {
			bufpool.Put(frame) // written or copied into bw: sendBulk's buffer is free
		}
		if err != nil {
			l.Close()
			return
		}
		if len(l.queue) == 0 && len(l.bulk) == 0 {
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

// MarshalJSON writes durations as integer microseconds, the unit the headless
// protocol uses for every RTT.
func (q Quality) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		SRTT    int64   `json:"srtt_us"`
		RTTVar  int64   `json:"rttvar_us"`
		MinRTT  int64   `json:"min_rtt_us"`
		Samples uint64  `json:"samples"`
		Sent    uint64  `json:"pings_sent"`
		Lost    uint64  `json:"pings_lost"`
		Jitter  int64   `json:"jitter_us"`
		Loss    float64 `json:"loss"`
		TxBps   float64 `json:"tx_bps"`
		RxBps   float64 `json:"rx_bps"`
		Segs    uint64  `json:"segs_sent,omitempty"`
		Retrans uint64  `json:"segs_retrans,omitempty"`
	}{q.SRTT.Microseconds(), q.RTTVar.Microseconds(), q.MinRTT.Microseconds(), q.Samples, q.Sent, q.Lost,
		q.Jitter.Microseconds(), q.Loss, q.TxBps, q.RxBps, q.SegsSent, q.SegsRetrans})
}

// rttStats keeps RFC 6298 style smoothed RTT and variance from ping/pong, jitter,
// loss, and the passive throughput counters.
type rttStats struct {
	mu      sync.Mutex
	q       Quality
	pending map[uint64]time.Time
	nonce   uint64
	// byte counters since the last rate update
	tx, rx   atomic.Uint64
	rateAt   time.Time
	onSample func(rtt time.Duration)
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
func (s *rttStats) countTx(n int) { s.tx.Add(uint64(n)) }
func (s *rttStats) countRx(n int) { s.rx.Add(uint64(n)) }

// updateRates folds the bytes since the last call into the EWMA rates.
func (s *rttStats) updateRates(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, rx := s.tx.Swap(0), s.rx.Swap(0)
	s.q.TxBytes += tx
	s.q.RxBytes += rx
	if !s.rateAt.IsZero() {
		if dt := now.Sub(s.rateAt).Seconds(); dt > 0 {
			s.q.TxBps = 0.7*s.q.TxBps + 0.3*float64(tx)/dt
			s.q.RxBps = 0.7*s.q.RxBps + 0.3*float64(rx)/dt
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

// Quality returns the link's current measurements, with the kernel's segment
// counters where it has them (one getsockopt per call).
func (l *Link) Quality() Quality {
	q := l.quality.snapshot()
	if sent, retrans, bytes, ok := transportCounters(l.conn); ok {
		q.Transport, q.SegsSent, q.SegsRetrans, q.SegsBytes = true, sent, retrans, bytes
	}
	return q
}
