package rtpbridge

import (
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"parley/media/audio"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// Two bridges face each other as a phone and the node would: a 1 kHz tone
// written into one's sink comes out of the other's source, for both laws.
func TestBridgeCarriesATone(t *testing.T) {
	for _, pt := range []uint8{PTPCMU, PTPCMA} {
		a, err := Listen(loopback, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := Listen(loopback, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		a.SetRemote(Media{Addr: b.LocalAddr(), PT: pt})
		b.SetRemote(Media{Addr: a.LocalAddr(), PT: pt})
		frame := make([]int16, audio.FrameSamples)
		var heard []int16
		got := make([]int16, audio.FrameSamples)
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; len(heard) < 10*audio.FrameSamples; i++ {
			if time.Now().After(deadline) {
				t.Fatalf("pt %d: heard %d samples", pt, len(heard))
			}
			for k := range frame {
				frame[k] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i*audio.FrameSamples+k)/audio.SampleRate))
			}
			if err := a.Sink().WriteFrame(frame); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
			for b.Source().ReadFrame(got) == nil && rms(got) > 0 {
				heard = append(heard, got...)
			}
		}
		if f := zeroCrossHz(heard, audio.SampleRate); f < 900 || f > 1100 {
			t.Fatalf("pt %d: heard %f Hz", pt, f)
		}
		if r := rms(heard); r < 4000 || r > 7000 {
			t.Fatalf("pt %d: level %f, want about 5657", pt, r)
		}
	}
}

// Packets from anyone but the phone, of another payload type, or not RTP are
// dropped and counted.
func TestBridgeDropsStrangers(t *testing.T) {
	b, err := Listen(loopback, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	phone, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer phone.Close()
	b.SetRemote(Media{Addr: netip.MustParseAddrPort("127.0.0.2:9"), PT: PTPCMU}) // someone else
	send := func(pt uint8, payload []byte) {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt}, Payload: payload}
		raw, _ := p.Marshal()
		phone.WriteToUDP(raw, net.UDPAddrFromAddrPort(b.LocalAddr()))
	}
	send(PTPCMU, make([]byte, 160))
	waitFor(t, func() bool { return b.Stats().DropSource == 1 })
	b.SetRemote(Media{Addr: phone.LocalAddr().(*net.UDPAddr).AddrPort(), PT: PTPCMU})
	send(101, make([]byte, 4))
	waitFor(t, func() bool { return b.Stats().DropPT == 1 })
	phone.WriteToUDP([]byte("INVITE"), net.UDPAddrFromAddrPort(b.LocalAddr()))
	waitFor(t, func() bool { return b.Stats().DropMalformed == 1 })
	send(PTPCMU, make([]byte, 1200))
	waitFor(t, func() bool { return b.Stats().DropSize == 1 })
	send(PTPCMU, make([]byte, 160))
	waitFor(t, func() bool { return b.Stats().PacketsIn == 1 })
	// The SDP names another address of the phone; its signalling one counts.
	b.SetRemote(Media{Addr: netip.MustParseAddrPort("127.0.0.2:9"), PT: PTPCMU, Also: loopback})
	send(PTPCMU, make([]byte, 160))
	waitFor(t, func() bool { return b.Stats().PacketsIn == 2 })
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// FuzzReceive: no datagram makes the bridge fail or queue beyond its bound.
func FuzzReceive(f *testing.F) {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: PTPCMU}, Payload: make([]byte, 160)}
	raw, _ := p.Marshal()
	f.Add(raw)
	f.Add([]byte{0x80})
	op := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96}, Payload: []byte{0xf8, 0xff, 0xfe}}
	raw, _ = op.Marshal()
	f.Add(raw)
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	f.Fuzz(func(t *testing.T, pkt []byte) {
		b := &Bridge{remote: Media{Addr: from, PT: PTPCMU}}
		pcm8 := make([]int16, maxPayload8k)
		for range 3 {
			b.receive(pkt, from, pcm8)
		}
		if len(b.queue) > queueFrames || len(b.part) >= audio.FrameSamples {
			t.Fatalf("queue %d, part %d", len(b.queue), len(b.part))
		}
		// With Opus negotiated the packets are queued whole, as many.
		o := &Bridge{remote: Media{Addr: from, PT: 96, Opus: true}}
		for range queueFrames + 2 {
			o.receive(pkt, from, pcm8)
		}
		if len(o.opusQ) > queueFrames {
			t.Fatalf("opus queue %d", len(o.opusQ))
		}
		o.decodeQueuedLocked() // whatever it holds: decoded or counted, no panic
	})
}
