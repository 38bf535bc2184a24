package rtpbridge

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"parley/media/audio"
	"parley/media/opus"
)

const (
	// samples8k is one 20 ms frame at 8 kHz: G.711's usual packet (ptime 20).
	samples8k = audio.FrameSamples / ratio
	// maxPacket bounds an inbound datagram: 20 ms of G.711 is 172 bytes with
	// its header; a phone sending ptime 60 sends 492.
	maxPacket = 1500
	// maxPayload8k bounds the samples one packet may carry (ptime ≤ 120 ms):
	// a larger packet is dropped rather than flooding the queue.
	maxPayload8k = 960
	// queueFrames bounds inbound audio waiting for the call to read: 200 ms.
	// More is latency, dropped oldest first.
	queueFrames = 10
	// maxPacketRate bounds inbound packets a second (G.711 at ptime 10 is 100;
	// DTMF events a few more); beyond it they are dropped before decoding.
	maxPacketRate = 200
)

// ErrClosed is returned once the bridge is closed.
var ErrClosed = errors.New("rtpbridge: closed")

// Stats counts what the bridge did (Bridge.Stats).
type Stats struct {
	PacketsIn, PacketsOut uint64
	// Drops by reason: from an address other than the phone's, not RTP, a
	// payload type not negotiated, too long, over the rate, queue full.
	DropSource, DropMalformed, DropPT, DropSize, DropRate, DropQueue uint64
	// DTMF (dtmf.go): events reported, telephone-event payloads refused,
	// repeated end packets collapsed, packets sent.
	EventsIn, DropEvent, DupEvents, EventsOut uint64
	SilentReads                               uint64 // the call read with nothing queued
	// HeldFrames counts frames not sent: the phone's direction said it takes
	// none (on hold, hold.go).
	HeldFrames uint64
}

// Bridge is one call's RTP session with a phone.
type Bridge struct {
	conn *net.UDPConn
	log  *slog.Logger

	mu     sync.Mutex
	remote Media // zero until negotiated
	queue  [][]int16
	part   []int16 // inbound samples short of a whole 48 kHz frame
	up     upsampler
	closed bool

	seq  uint16
	ts   uint32
	ssrc uint32
	out  []byte // packet being built (Sink), guarded by mu

	sdpSession, sdpVersion uint64 // this end's SDP origin (hold.go: SDP)

	lastSec  int64 // unix second of rate counting
	secCount int

	// DTMF (dtmf.go), guarded by mu.
	onDTMF    func(byte)
	evSeen    bool   // evTS holds the last reported event's timestamp
	evTS      uint32 // its end packets' repeats are collapsed by it
	evSec     int64
	evCount   int
	dtmfOut   []uint8 // events waiting to be sent, head first
	evStep    int     // frame-time step of the head event
	evStartTS uint32
	eventsIn  atomic.Uint64
	dropEvent atomic.Uint64
	dupEvents atomic.Uint64
	eventsOut atomic.Uint64

	packetsIn, packetsOut                                            atomic.Uint64
	dropSource, dropMalformed, dropPT, dropSize, dropRate, dropQueue atomic.Uint64
	silentReads                                                      atomic.Uint64
	heldFrames                                                       atomic.Uint64

	// Opus (opus.go): packets from the phone, guarded by mu with the codec
	// state and the passthrough mapping.
	opusQ                                                                [][]byte
	dec                                                                  *opus.Decoder
	enc                                                                  *opus.Encoder
	pcm                                                                  []int16
	pass, passMapped, oddFrames                                          bool
	passOffset                                                           uint32
	passedIn, passedOut, opusDecoded, opusEncoded, notTwenty, opusFailed atomic.Uint64
	underDigits                                                          atomic.Uint64

	done chan struct{}
}

// Listen opens a bridge's UDP socket on ip (port chosen by the OS).
func Listen(ip netip.Addr, log *slog.Logger) (*Bridge, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	var r [14]byte
	rand.Read(r[:])
	b := &Bridge{conn: conn, log: log, done: make(chan struct{}),
		seq: binary.BigEndian.Uint16(r[0:]), ts: binary.BigEndian.Uint32(r[2:]), ssrc: binary.BigEndian.Uint32(r[6:]),
		sdpSession: uint64(binary.BigEndian.Uint32(r[10:]))} // fits o='s 63 bits with room to count versions
	go b.readLoop()
	return b, nil
}

// LocalAddr is where the phone should send RTP.
func (b *Bridge) LocalAddr() netip.AddrPort {
	return b.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// SetRemote starts sending to m (negotiated by SDP) and accepting its RTP.
func (b *Bridge) SetRemote(m Media) {
	b.mu.Lock()
	b.remote = m
	b.mu.Unlock()
}

// Close ends the session.
func (b *Bridge) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	err := b.conn.Close()
	<-b.done
	return err
}

// Stats is what the bridge counted so far.
func (b *Bridge) Stats() Stats {
	return Stats{PacketsIn: b.packetsIn.Load(), PacketsOut: b.packetsOut.Load(),
		DropSource: b.dropSource.Load(), DropMalformed: b.dropMalformed.Load(), DropPT: b.dropPT.Load(),
		DropSize: b.dropSize.Load(), DropRate: b.dropRate.Load(), DropQueue: b.dropQueue.Load(),
		SilentReads: b.silentReads.Load(), HeldFrames: b.heldFrames.Load(),
		EventsIn: b.eventsIn.Load(), DropEvent: b.dropEvent.Load(), DupEvents: b.dupEvents.Load(), EventsOut: b.eventsOut.Load()}
}

func (b *Bridge) readLoop() {
	defer close(b.done)
	buf := make([]byte, maxPacket)
	pcm8 := make([]int16, maxPayload8k)
	for {
		n, from, err := b.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP errors on some systems; the socket is fine
		}
		b.receive(buf[:n], from, pcm8)
	}
}

// receive checks and queues one datagram.
func (b *Bridge) receive(pkt []byte, from netip.AddrPort, pcm8 []int16) {
	b.mu.Lock()
	remote := b.remote
	now := time.Now().Unix()
	if now != b.lastSec {
		b.lastSec, b.secCount = now, 0
	}
	b.secCount++
	over := b.secCount > maxPacketRate
	b.mu.Unlock()
	// Only the phone: the address its SDP named, or the one it signals
	// from (Media.Also); the port may differ, so the IP alone is checked.
	if src := from.Addr().Unmap(); !remote.Addr.IsValid() || (src != remote.Addr.Addr() && src != remote.Also) {
		b.dropSource.Add(1)
		return
	}
	if over {
		b.dropRate.Add(1)
		return
	}
	var p rtp.Packet
	if err := p.Unmarshal(pkt); err != nil || p.Version != 2 {
		b.dropMalformed.Add(1)
		return
	}
	if remote.EventPT != 0 && p.PayloadType == remote.EventPT {
		b.receiveEvent(p.Timestamp, p.Payload, now)
		return
	}
	if p.PayloadType != remote.PT {
		b.dropPT.Add(1) // telephone-event, comfort noise, a codec not agreed
		return
	}
	if len(p.Payload) == 0 || len(p.Payload) > maxPayload8k {
		b.dropSize.Add(1)
		return
	}
	b.packetsIn.Add(1)
	if remote.Opus {
		b.mu.Lock()
		b.queueOpusLocked(p.Payload)
		b.mu.Unlock()
		return
	}
	dec := ulawDecode
	if remote.PT == PTPCMA {
		dec = alawDecode
	}
	s8 := pcm8[:len(p.Payload)]
	for i, c := range p.Payload {
		s8[i] = dec(c)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s48 := make([]int16, len(s8)*ratio)
	b.up.up(s48, s8)
	b.part = append(b.part, s48...)
	b.framePartLocked()
}

// framePartLocked moves whole frames from part to the queue (b.mu held).
func (b *Bridge) framePartLocked() {
	for len(b.part) >= audio.FrameSamples {
		f := make([]int16, audio.FrameSamples)
		copy(f, b.part)
		b.part = append(b.part[:0], b.part[audio.FrameSamples:]...)
		if len(b.queue) >= queueFrames {
			b.queue = b.queue[1:]
			b.dropQueue.Add(1)
		}
		b.queue = append(b.queue, f)
	}
}

// Source is the phone's voice as the call's microphone: the oldest queued
// frame, silence when none (it never blocks; the call paces it).
func (b *Bridge) Source() audio.Source { return source{b} }

// Sink is the call's sound to the phone: each frame is sent as one 20 ms
// G.711 packet.
func (b *Bridge) Sink() audio.Sink { return sink{b} }

type source struct{ b *Bridge }

func (s source) ReadFrame(dst []int16) error {
	if len(dst) != audio.FrameSamples {
		return &audio.FrameSizeError{Got: len(dst)}
	}
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.remote.Opus && b.pass { // the call takes the packets (ReadOpus)
		clear(dst)
		return nil
	}
	if b.remote.Opus {
		b.decodeQueuedLocked()
	}
	if len(b.queue) == 0 {
		clear(dst)
		b.silentReads.Add(1)
		return nil
	}
	copy(dst, b.queue[0])
	b.queue = b.queue[1:]
	return nil
}

func (s source) Close() error { return nil }

type sink struct{ b *Bridge }

func (s sink) WriteFrame(src []int16) error {
	if len(src) != audio.FrameSamples {
		return &audio.FrameSizeError{Got: len(src)}
	}
	b := s.b
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	remote := b.remote
	if !remote.Addr.IsValid() {
		b.mu.Unlock()
		return nil // not negotiated yet: nowhere to send
	}
	if !remote.Dir.Receives() { // on hold: the frame's time passes unsent
		if remote.Opus {
			b.ts += audio.FrameSamples // 48 kHz clock
		} else {
			b.ts += samples8k
		}
		b.mu.Unlock()
		b.heldFrames.Add(1)
		return nil
	}
	if len(b.dtmfOut) > 0 && remote.EventPT != 0 {
		if pkts := b.sendEventLocked(remote.EventPT, remote.EventRate); pkts != nil {
			// The event's frame time passes as voice's would, in the
			// stream's clock.
			if remote.Opus {
				b.ts += audio.FrameSamples
			} else {
				b.ts += samples8k
			}
			b.mu.Unlock()
			for _, out := range pkts {
				if _, err := b.conn.WriteToUDPAddrPort(out, remote.Addr); err == nil {
					b.eventsOut.Add(1)
				}
			}
			return nil
		}
	}
	if remote.Opus {
		return b.sendOpusFrameLocked(remote, src)
	}
	var s8 [samples8k]int16
	down48to8(s8[:], src)
	enc := ulawEncode
	if remote.PT == PTPCMA {
		enc = alawEncode
	}
	payload := make([]byte, samples8k)
	for i, v := range s8 {
		payload[i] = enc(v)
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: remote.PT, SequenceNumber: b.seq, Timestamp: b.ts, SSRC: b.ssrc}, Payload: payload}
	b.seq++
	b.ts += samples8k
	out, err := p.Marshal()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	if _, err := b.conn.WriteToUDPAddrPort(out, remote.Addr); err == nil {
		b.packetsOut.Add(1)
	}
	return nil
}

func (s sink) Close() error { return nil }

// sendOpusFrameLocked is Sink's write with Opus negotiated (b.mu held; it
// unlocks): nothing while the call passes packets through, else one
// encoded frame.
func (b *Bridge) sendOpusFrameLocked(remote Media, src []int16) error {
	if b.pass {
		b.mu.Unlock()
		return nil
	}
	payload := b.encodeLocked(src)
	ts := b.ts
	b.ts += audio.FrameSamples
	if payload == nil {
		b.mu.Unlock()
		return nil
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: remote.PT, SequenceNumber: b.seq, Timestamp: ts, SSRC: b.ssrc}, Payload: payload}
	b.seq++
	out, err := p.Marshal()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	if _, err := b.conn.WriteToUDPAddrPort(out, remote.Addr); err == nil {
		b.packetsOut.Add(1)
	}
	return nil
}
