package jitter

import (
	"sort"
	"time"
)

// Kind says what the playout loop should do with a Frame.
type Kind uint8

// The frame kinds; see the package doc.
const (
	Silence Kind = iota
	Normal
	FEC
	Conceal
)

func (k Kind) String() string {
	switch k {
	case Normal:
		return "normal"
	case FEC:
		return "fec"
	case Conceal:
		return "conceal"
	default:
		return "silence"
	}
}

// Packet is one received RTP packet.
type Packet struct {
	Seq       uint16
	Timestamp uint32 // RTP timestamp, ClockRate units
	Payload   []byte // kept, not copied
	Arrival   time.Time
}

// Frame is what to play for one frame period. Payload is the packet to decode for
// Normal, the following packet (whose FEC data rebuilds this frame) for FEC, and nil
// otherwise.
type Frame struct {
	Kind    Kind
	Payload []byte
}

// Stats are the buffer's counters since it was made.
type Stats struct {
	Received     uint64 // Push calls
	Duplicates   uint64 // packets already received
	Late         uint64 // packets that arrived after their frame was played
	Dropped      uint64 // packets discarded unplayed: overflow, delay reduction, resync
	Played       uint64 // Normal frames
	Lost         uint64 // sequence numbers missing when their frame was due
	FECRecovered uint64 // FEC frames
	Concealed    uint64 // Conceal frames
	Silence      uint64 // Silence frames
	Stretched    uint64 // frames inserted to grow the delay
	Skipped      uint64 // frames dropped to shrink the delay
	Resyncs      uint64 // timeline restarts
	Buffered     int
	Jitter       time.Duration // RFC 3550 interarrival jitter
	TargetDelay  time.Duration
}

type entry struct {
	seq, ts int64 // unwrapped
	payload []byte
}

// Buffer is an adaptive jitter buffer; see the package doc.
type Buffer struct {
	cfg   Config
	frame int64 // timestamp units per frame
	span  int64 // MaxSpan in timestamp units
	pkts  []entry

	// Stream: unwrapping references and the epoch all times are measured from.
	stream   bool
	epoch    time.Time
	highSeq  int64
	lastTS   int64
	tsOrigin int64 // timestamp that maps to time 0 of the transit computation
	seen     seenSet
	t        timing

	// Playout position.
	started   bool
	playTS    int64 // timestamp of the frame the next Pop plays
	nextSeq   int64 // first sequence number not yet played or given up on
	speech    bool  // the last frame was audio (not silence)
	emptyRun  int   // Pops in a row with nothing buffered
	sinceSkip int

	// A run of late packets with no packet on time between them: whether one is
	// going on, and the arrival (ns) of its first packet (reanchorAfter).
	lateRun  bool
	lateFrom int64

	st Stats
}

// New returns an empty buffer.
func New(cfg Config) *Buffer {
	cfg = cfg.withDefaults()
	b := &Buffer{
		cfg:   cfg,
		frame: int64(cfg.FrameSamples),
		span:  int64(cfg.MaxSpan) * int64(cfg.ClockRate) / int64(time.Second),
		pkts:  make([]entry, 0, cfg.MaxPackets),
	}
	b.t.minT, b.t.maxT = int64(cfg.MinDelay), int64(cfg.MaxDelay)
	b.t.update()
	return b
}

// tsToNs converts a timestamp distance to nanoseconds. Whole seconds and the rest
// are converted apart so that no product can overflow, however long the call.
func (b *Buffer) tsToNs(ts int64) int64 {
	rate := int64(b.cfg.ClockRate)
	q := floorDiv(ts, rate)
	return q*int64(time.Second) + (ts-q*rate)*int64(time.Second)/rate
}

// nsToTS converts nanoseconds to timestamp units, rounding down.
func (b *Buffer) nsToTS(ns int64) int64 {
	q := floorDiv(ns, int64(time.Second))
	return q*int64(b.cfg.ClockRate) + (ns-q*int64(time.Second))*int64(b.cfg.ClockRate)/int64(time.Second)
}

// Push adds a received packet.
func (b *Buffer) Push(p Packet) {
	b.st.Received++
	if !b.stream {
		b.epoch = p.Arrival
		b.newStream(p)
	}
	seq := unwrap16(b.highSeq, p.Seq)
	ts := unwrap32(b.lastTS, p.Timestamp)
	if abs(seq-b.highSeq) > maxDropout || abs(b.tsToNs(ts-b.lastTS)) > int64(maxTSJump) {
		b.resync()
		b.newStream(p)
		seq, ts = b.highSeq, b.lastTS
	}
	if b.seen.has(seq) || b.buffered(seq) {
		b.st.Duplicates++
		return
	}
	arrival := clampDur(p.Arrival.Sub(b.epoch))
	d := arrival - b.tsToNs(ts-b.tsOrigin)
	if b.t.haveLast && d-b.t.dmin > max(int64(time.Second), 4*int64(b.cfg.MaxDelay)) {
		// Far slower than the fastest path: not the network but a new timeline
		// (a sender that stopped its timestamps while it sent nothing, say).
		b.resync()
		b.t.restart()
	}
	b.t.observe(arrival, d)
	b.seen.add(seq)
	if seq > b.highSeq {
		b.highSeq, b.lastTS = seq, ts
	}
	if b.started && (seq < b.nextSeq || ts < b.playTS-b.frame/2) {
		b.st.Late++
		if !b.lateRun {
			b.lateRun, b.lateFrom = true, arrival
		}
		if arrival-b.lateFrom < int64(reanchorAfter) {
			// Late means the target was too small: grow by at least a frame now.
			b.t.raise(float64(b.t.target+b.tsToNs(b.frame)), arrival)
			return
		}
		// Late for a while, not in one burst: the path itself got slower than
		// any target absorbs. Start a timeline on it, keeping this packet.
		b.resync()
		b.t.restart()
		b.t.observe(arrival, d)
	}
	b.lateRun = false
	b.insert(entry{seq: seq, ts: ts, payload: p.Payload})
}

// newStream makes p the reference for unwrapping.
func (b *Buffer) newStream(p Packet) {
	b.stream = true
	b.highSeq = int64(p.Seq)
	b.lastTS = int64(p.Timestamp)
	b.tsOrigin = b.lastTS
	b.seen.reset()
	b.t.restart()
}

// resync drops everything buffered and waits for packets to be due again.
func (b *Buffer) resync() {
	b.st.Resyncs++
	b.st.Dropped += uint64(len(b.pkts))
	b.pkts = b.pkts[:0]
	b.started = false
}

func (b *Buffer) buffered(seq int64) bool {
	i := sort.Search(len(b.pkts), func(i int) bool { return b.pkts[i].seq >= seq })
	return i < len(b.pkts) && b.pkts[i].seq == seq
}

// insert keeps pkts sorted by sequence number within the size and span caps.
func (b *Buffer) insert(e entry) {
	i := sort.Search(len(b.pkts), func(i int) bool { return b.pkts[i].seq >= e.seq })
	if len(b.pkts) == b.cfg.MaxPackets {
		if i == 0 {
			b.st.Dropped++ // older than everything in a full buffer
			return
		}
		b.dropFront()
		i--
	}
	b.pkts = append(b.pkts, entry{})
	copy(b.pkts[i+1:], b.pkts[i:])
	b.pkts[i] = e
	for len(b.pkts) > 1 && b.pkts[len(b.pkts)-1].ts-b.pkts[0].ts > b.span {
		b.dropFront()
	}
}

func (b *Buffer) dropFront() {
	b.st.Dropped++
	b.popFront()
}

// popFront shifts rather than re-slices, so the backing array is reused forever and
// Push/Pop do not allocate.
func (b *Buffer) popFront() entry {
	e := b.pkts[0]
	copy(b.pkts, b.pkts[1:])
	b.pkts[len(b.pkts)-1] = entry{}
	b.pkts = b.pkts[:len(b.pkts)-1]
	return e
}

// Stats returns the counters and the current estimates.
func (b *Buffer) Stats() Stats {
	s := b.st
	s.Buffered = len(b.pkts)
	s.Jitter = time.Duration(b.t.jitter)
	s.TargetDelay = time.Duration(b.t.target)
	return s
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
