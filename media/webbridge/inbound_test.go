package webbridge

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/rtp"

	"parley/media/audio"
	"parley/media/opus"
)

// speechLike is a crude voice (the opus package's benchmark signal): a pulse
// train near 120 Hz through two moving formants, in syllables with pauses.
// Codec cost is measured on it, since libopus's mode follows the signal.
func speechLike(seconds float64) []int16 {
	n := int(seconds * audio.SampleRate)
	out := make([]int16, n)
	rng := rand.New(rand.NewPCG(1, 2))
	phase := 0.0
	var y1, y2, z1, z2 float64
	res := func(f, bw float64) (a1, a2 float64) {
		r := math.Exp(-math.Pi * bw / audio.SampleRate)
		return 2 * r * math.Cos(2*math.Pi*f/audio.SampleRate), -r * r
	}
	for i := range out {
		t := float64(i) / audio.SampleRate
		phase += (120 + 30*math.Sin(2*math.Pi*0.5*t)) / audio.SampleRate
		src := 0.0
		if phase >= 1 {
			phase--
			src = 1
		}
		syl := math.Max(0, math.Sin(2*math.Pi*3*t))
		if math.Mod(t, 2) > 1.6 {
			syl = 0
		}
		a1, a2 := res(500+300*math.Sin(2*math.Pi*1.3*t), 80)
		b1, b2 := res(1500+700*math.Sin(2*math.Pi*0.9*t), 120)
		y := src*3000 + a1*y1 + a2*y2
		y2, y1 = y1, y
		z := src*2000 + b1*z1 + b2*z2
		z2, z1 = z1, z
		out[i] = int16(math.Max(-32000, math.Min(32000, syl*(y+z)*0.6+rng.NormFloat64()*30)))
	}
	return out
}

// packets encodes pcm as a browser would: 20 ms Opus in RTP, sequence from 1.
func packets(t testing.TB, pcm []int16) []*rtp.Packet {
	t.Helper()
	enc, err := opus.NewEncoder(opus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*rtp.Packet
	buf := make([]byte, opus.MaxPacket)
	for i := 0; i+audio.FrameSamples <= len(pcm); i += audio.FrameSamples {
		n, err := enc.Encode(pcm[i:i+audio.FrameSamples], buf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: opusPayloadType, SequenceNumber: uint16(len(out) + 1), Timestamp: uint32(i)}, Payload: append([]byte(nil), buf[:n]...)})
	}
	return out
}

func newTestInbound(t testing.TB) (*Bridge, *inbound) {
	t.Helper()
	b, err := New(Config{Interfaces: loopbackOnly, IncludeLoopback: true, MaxQueue: 50, KeepQueue: 50})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	in, err := b.newInbound(opusPayloadType)
	if err != nil {
		t.Fatal(err)
	}
	return b, in
}

// Sequence numbers decide: a short gap is concealed, a long one is not, a
// packet behind the newest is late, a far jump back is a new stream; packets
// of another payload type, empty or oversized are refused; garbage that
// libopus rejects costs one frame.
func TestInboundSequence(t *testing.T) {
	b, in := newTestInbound(t)
	pk := packets(t, speechLike(1))
	seq := func(p *rtp.Packet, s uint16) *rtp.Packet { q := *p; q.SequenceNumber = s; return &q }
	in.packet(seq(pk[0], 1000))
	in.packet(seq(pk[1], 1003)) // 2 lost: concealed
	in.packet(seq(pk[2], 1002)) // late
	in.packet(seq(pk[3], 1003)) // duplicate: late
	in.packet(seq(pk[4], 1010)) // 6 lost: a pause, not concealed
	in.packet(seq(pk[5], 500))  // far behind: a new stream
	wrongPT := *seq(pk[6], 501)
	wrongPT.PayloadType = 0
	in.packet(&wrongPT)
	empty := *seq(pk[6], 501)
	empty.Payload = nil
	in.packet(&empty)
	huge := *seq(pk[6], 501)
	huge.Payload = make([]byte, maxPayload+1)
	in.packet(&huge)
	bad := *seq(pk[6], 501)
	bad.Payload = []byte{0xff, 0xff, 0xff} // a code-3 packet claiming 63 frames: invalid
	in.packet(&bad)
	s := b.Stats()
	want := Stats{PacketsIn: 4, Concealed: 2, Late: 2, Restarts: 1, Refused: 3, DecodeErrors: 1}
	got := Stats{PacketsIn: s.PacketsIn, Concealed: s.Concealed, Late: s.Late, Restarts: s.Restarts, Refused: s.Refused, DecodeErrors: s.DecodeErrors}
	if got != want {
		t.Fatalf("counters %+v, want %+v", got, want)
	}
	if s.Queued != 4+2+1 {
		t.Fatalf("%d frames queued, want 7 (4 packets, 2 concealed, 1 for the bad packet)", s.Queued)
	}
}

// FuzzInboundPacket: any payload is decoded or refused, never more than the
// queue holds, and counted.
func FuzzInboundPacket(f *testing.F) {
	f.Add(uint16(1), uint8(opusPayloadType), []byte{0xfc, 0xff, 0xfe})
	f.Add(uint16(2), uint8(opusPayloadType), []byte{0x03, 0x83, 0x00})
	f.Add(uint16(40000), uint8(0), []byte{})
	b, in := newTestInbound(f)
	f.Fuzz(func(t *testing.T, seq uint16, pt uint8, payload []byte) {
		in.packet(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq}, Payload: payload})
		if s := b.Stats(); s.Queued > 50 {
			t.Fatalf("%d frames queued", s.Queued)
		}
	})
}

// BenchmarkBridgedFrame is one 20 ms frame through the bridge both ways, as a
// bridged call costs its host per frame beyond an ordinary call: an inbound
// packet decoded and queued, read out as the call's source, and the call's
// frame encoded and written to the (unbound) track. %core is the share of one
// core one bridged call takes.
func BenchmarkBridgedFrame(b *testing.B) {
	pcm := speechLike(10)
	pk := packets(b, pcm)
	br, in := newTestInbound(b)
	src, sink := br.Source(), br.Sink()
	frame := make([]int16, audio.FrameSamples)
	run := func(b *testing.B, decode, encode bool) {
		i := 0
		for b.Loop() {
			p := *pk[i%len(pk)]
			p.SequenceNumber = uint16(i)
			if decode {
				in.packet(&p)
				src.ReadFrame(frame)
			}
			if encode {
				sink.WriteFrame(pcm[(i%len(pk))*audio.FrameSamples:][:audio.FrameSamples])
			}
			i++
		}
		perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(100*perOp/float64(audio.FrameDuration.Nanoseconds()), "%core")
	}
	b.Run("both", func(b *testing.B) { run(b, true, true) })
	b.Run("decode", func(b *testing.B) { run(b, true, false) })
	b.Run("encode", func(b *testing.B) { run(b, false, true) })
}

// The packet budget lets a burst through, then the sustained rate only.
func TestPacketBudget(t *testing.T) {
	var p packetBudget
	now := time.Unix(1000, 0)
	for i := range maxPacketBurst {
		if !p.allow(now) {
			t.Fatalf("packet %d of a burst refused", i)
		}
	}
	if p.allow(now) {
		t.Fatal("a packet over the burst allowed")
	}
	// 50 ms later: 10 more at 200/s.
	now = now.Add(50 * time.Millisecond)
	allowed := 0
	for range 20 {
		if p.allow(now) {
			allowed++
		}
	}
	if allowed != maxPacketRate/20 {
		t.Fatalf("%d allowed after 50 ms, want %d", allowed, maxPacketRate/20)
	}
	// A browser's steady 50 a second is never refused.
	for i := range 500 {
		now = now.Add(20 * time.Millisecond)
		if !p.allow(now) {
			t.Fatalf("packet %d of a 50/s stream refused", i)
		}
	}
}
