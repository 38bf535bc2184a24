package rtpbridge

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"parley/media/audio"
	"parley/media/opus"
)

// baresip 1.0.0's offer with its opus and g711 modules (opus first).
const baresipOpusOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 4000 RTP/AVP 96 0 8 101\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 stereo=1;sprop-stereo=1\r\n" +
	"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"

func TestSDPPicksOpusInTheOffersOrder(t *testing.T) {
	m, err := ParseSDP([]byte(baresipOpusOffer))
	if err != nil || !m.Opus || m.PT != 96 || m.EventPT != 101 || m.EventRate != 8000 {
		t.Fatalf("opus first: %+v, %v; want Opus PT 96, DTMF 101 at 8 kHz", m, err)
	}
	pcmuFirst := strings.Replace(baresipOpusOffer, "RTP/AVP 96 0 8 101", "RTP/AVP 0 96 8 101", 1)
	if m, err := ParseSDP([]byte(pcmuFirst)); err != nil || m.Opus || m.PT != PTPCMU || m.EventPT != 101 {
		t.Fatalf("PCMU first: %+v, %v", m, err)
	}
	// opus/48000/1 is not RFC 7587's name; a static number is not Opus.
	mono := strings.Replace(baresipOpusOffer, "opus/48000/2", "opus/48000/1", 1)
	if m, err := ParseSDP([]byte(mono)); err != nil || m.Opus {
		t.Fatalf("opus/48000/1: %+v, %v", m, err)
	}
	// Our answer names it with the phone's number, mono.
	b, err := Listen(loopback, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.SetRemote(m)
	ans := b.SDP(SendRecv, m.PT)
	if !strings.Contains(ans, "m=audio ") || !strings.Contains(ans, " RTP/AVP 96\r\n") || !strings.Contains(ans, "a=rtpmap:96 opus/48000/2") || !strings.Contains(ans, "stereo=0") {
		t.Fatalf("answer:\n%s", ans)
	}
	back, err := ParseSDP([]byte(ans))
	if err != nil || !back.Opus || back.PT != 96 {
		t.Fatalf("answer reads back as %+v, %v", back, err)
	}
	// Our offer: Opus as 111 first, G.711 and DTMF after.
	offer := BuildSDP(b.LocalAddr(), 1, PTOpus, PTPCMU, PTPCMA, PTEvent)
	if m, err := ParseSDP([]byte(offer)); err != nil || !m.Opus || m.PT != PTOpus {
		t.Fatalf("own offer reads back as %+v, %v\n%s", m, err, offer)
	}
}

// Passthrough: packets cross the bridge byte for byte, renumbered, with
// nothing decoded or encoded; transcoding (a group call) decodes and
// encodes instead.
func TestOpusPassthroughAndTranscoding(t *testing.T) {
	node, err := Listen(loopback, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	phone, err := Listen(loopback, nil) // a phone: its bridge transcodes
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	node.SetRemote(Media{Addr: phone.LocalAddr(), PT: 96, Opus: true})
	phone.SetRemote(Media{Addr: node.LocalAddr(), PT: 96, Opus: true})
	node.SetPassthrough(true)

	enc, err := opus.NewEncoder(opus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tone := func(i int, hz float64) []int16 {
		f := make([]int16, audio.FrameSamples)
		for k := range f {
			f[k] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i*audio.FrameSamples+k)/audio.SampleRate))
		}
		return f
	}
	// Phone → node: the phone encodes its tone; the node's call reads the
	// very packets.
	buf := make([]byte, opus.MaxPacket)
	var got [][]byte
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; len(got) < 10; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("node read %d packets", len(got))
		}
		if err := phone.Sink().WriteFrame(tone(i, 440)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		for {
			n, ok := node.ReadOpus(buf)
			if !ok {
				break
			}
			got = append(got, append([]byte(nil), buf[:n]...))
		}
	}
	silent := make([]int16, audio.FrameSamples)
	if err := node.Source().ReadFrame(silent); err != nil || rms(silent) != 0 {
		t.Fatalf("the PCM source gave sound while passing through: %v", err)
	}
	// Node → phone: encoded packets go out as they are and the phone
	// decodes the tone.
	var heard []int16
	frame := make([]int16, audio.FrameSamples)
	for i := 0; i < 25; i++ {
		n, err := enc.Encode(tone(i, 1000), buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := node.WriteOpus(buf[:n], uint32(5000+i*audio.FrameSamples)); err != nil {
			t.Fatal(err)
		}
		if err := node.Sink().WriteFrame(tone(i, 300)); err != nil { // dropped: passing through
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		for phone.Source().ReadFrame(frame) == nil && rms(frame) > 0 {
			heard = append(heard, frame...)
		}
	}
	if len(heard) < 10*audio.FrameSamples {
		t.Fatalf("the phone heard %d samples", len(heard))
	}
	if f := zeroCrossHz(heard[5*audio.FrameSamples:], audio.SampleRate); f < 900 || f > 1100 {
		t.Fatalf("the phone heard %f Hz, want 1000 (300 would mean the PCM sink sent)", f)
	}
	st := node.OpusStats()
	if st.Decoded != 0 || st.Encoded != 0 || st.PassedIn < 10 || st.PassedOut != 25 {
		t.Fatalf("node's Opus stats while passing through: %+v", st)
	}

	// A group call: the node transcodes both ways.
	node.SetPassthrough(false)
	heard = heard[:0]
	var nodeHeard []int16
	for i := 0; len(nodeHeard) < 10*audio.FrameSamples || len(heard) < 10*audio.FrameSamples; i++ {
		if i > 500 {
			t.Fatalf("transcoding: node heard %d, phone %d samples", len(nodeHeard), len(heard))
		}
		phone.Sink().WriteFrame(tone(i, 440))
		node.Sink().WriteFrame(tone(i, 1000))
		time.Sleep(5 * time.Millisecond)
		for node.Source().ReadFrame(frame) == nil && rms(frame) > 0 {
			nodeHeard = append(nodeHeard, frame...)
		}
		for phone.Source().ReadFrame(frame) == nil && rms(frame) > 0 {
			heard = append(heard, frame...)
		}
	}
	if f := zeroCrossHz(nodeHeard[5*audio.FrameSamples:], audio.SampleRate); f < 400 || f > 480 {
		t.Fatalf("the node decoded %f Hz, want 440", f)
	}
	if f := zeroCrossHz(heard[5*audio.FrameSamples:], audio.SampleRate); f < 900 || f > 1100 {
		t.Fatalf("the phone heard %f Hz from the node's encoder, want 1000", f)
	}
	if st := node.OpusStats(); st.Decoded == 0 || st.Encoded == 0 {
		t.Fatalf("transcoding counted nothing: %+v", st)
	}
	if err := (&Bridge{remote: Media{Addr: phone.LocalAddr(), PT: PTPCMU}}).WriteOpus([]byte{1}, 0); err != ErrNotOpus {
		t.Fatalf("WriteOpus on a G.711 session: %v", err)
	}
}

func TestOpusSamples(t *testing.T) {
	for _, c := range []struct {
		p    []byte
		want int
	}{
		{[]byte{0x08 | 0}, 960},    // config 1: SILK NB 20 ms, one frame
		{[]byte{0x78}, 960},        // config 15: hybrid FB 20 ms (libopus at 24 kbit/s)
		{[]byte{0xf8}, 960},        // config 31: CELT FB 20 ms
		{[]byte{0xf9}, 1920},       // two frames of 20 ms
		{[]byte{0x00}, 480},        // SILK NB 10 ms
		{[]byte{0xfb, 0x03}, 2880}, // code 3, three frames
		{[]byte{0xfb}, 0},          // code 3 without its count
		{[]byte{0xfb, 0x3f}, 0},    // 63 × 20 ms: beyond 120 ms
		{nil, 0},
	} {
		if got := OpusSamples(c.p); got != c.want {
			t.Errorf("%x: %d samples, want %d", c.p, got, c.want)
		}
	}
	// What our encoder makes is one 20 ms frame.
	enc, _ := opus.NewEncoder(opus.Options{})
	out := make([]byte, opus.MaxPacket)
	n, _ := enc.Encode(make([]int16, audio.FrameSamples), out)
	if OpusSamples(out[:n]) != audio.FrameSamples {
		t.Fatalf("own packet %x", out[:n])
	}
}

func FuzzOpusSamples(f *testing.F) {
	f.Add([]byte{0xf8, 1, 2})
	f.Add([]byte{0xfb, 0x03})
	f.Fuzz(func(t *testing.T, p []byte) {
		n := OpusSamples(p)
		if n < 0 || n > 5760 || (n == 0 && len(p) > 0 && p[0]&3 != 3) {
			t.Fatalf("%x: %d", p, n)
		}
		b := &Bridge{remote: Media{Opus: true, PT: 96}, pass: true}
		b.queueOpusLocked(p)
		dst := make([]byte, opus.MaxPacket)
		if m, ok := b.ReadOpus(dst); ok && !bytes.Equal(dst[:m], p) {
			t.Fatal("ReadOpus changed the packet")
		}
	})
}
