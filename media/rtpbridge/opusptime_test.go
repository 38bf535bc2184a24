package rtpbridge

import (
	"math"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"

	"parley/media/audio"
	"parley/media/opus"
)

// A phone that sends 40 ms Opus packets (ptime 40: two 20 ms frames in one
// packet, RFC 6716 code 3) cannot be forwarded frame for frame: the bridge
// stops offering passthrough, and once the call switches to transcoding the
// phone's tone is decoded rather than dropped as NotTwenty. Before
// Forwardable, passthrough dropped every such packet and the call was silent.
func TestFortyMillisecondPhoneIsTranscoded(t *testing.T) {
	node, err := Listen(loopback, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	phone, err := net.ListenUDP("udp", &net.UDPAddr{IP: loopback.AsSlice()})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	node.SetRemote(Media{Addr: phone.LocalAddr().(*net.UDPAddr).AddrPort(), PT: 96, Opus: true})
	node.SetPassthrough(true)
	if !node.Forwardable() {
		t.Fatal("an Opus session with no packets yet is not forwardable")
	}
	enc, err := opus.NewEncoder(opus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, audio.FrameSamples)
	var ts uint32
	var seq uint16
	// send40 encodes two 20 ms frames of a 440 Hz tone into one packet:
	// TOC with code 3, a count byte (VBR, 2 frames), the first frame's
	// length, both frames.
	send40 := func(i int) {
		var parts [2][]byte
		for f := range parts {
			for k := range frame {
				n := (2*i+f)*audio.FrameSamples + k
				frame[k] = int16(8000 * math.Sin(2*math.Pi*440*float64(n)/audio.SampleRate))
			}
			out := make([]byte, opus.MaxPacket)
			n, err := enc.Encode(frame, out)
			if err != nil {
				t.Fatal(err)
			}
			parts[f] = out[:n]
		}
		if parts[0][0]>>3 != parts[1][0]>>3 || len(parts[0]) > 251 {
			return // the encoder changed mode between the two frames: skip this pair
		}
		payload := []byte{parts[0][0]&^3 | 3, 0x80 | 2, byte(len(parts[0]) - 1)}
		payload = append(payload, parts[0][1:]...)
		payload = append(payload, parts[1][1:]...)
		if OpusSamples(payload) != 2*audio.FrameSamples {
			t.Fatalf("built a %d-sample packet", OpusSamples(payload))
		}
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, SSRC: 7}, Payload: payload}
		seq, ts = seq+1, ts+2*audio.FrameSamples
		raw, _ := p.Marshal()
		if _, err := phone.WriteToUDPAddrPort(raw, node.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; node.Forwardable(); i++ {
		if i > 100 {
			t.Fatal("still forwardable after 100 packets of 40 ms")
		}
		send40(i)
		time.Sleep(2 * time.Millisecond)
	}
	// The call sees it on its next frame and switches to transcoding.
	node.SetPassthrough(false)
	var heard []int16
	got := make([]int16, audio.FrameSamples)
	for i := 0; len(heard) < 20*audio.FrameSamples; i++ {
		if i > 500 {
			t.Fatalf("transcoding decoded %d samples", len(heard))
		}
		send40(100 + i)
		time.Sleep(5 * time.Millisecond)
		for node.Source().ReadFrame(got) == nil && rms(got) > 0 {
			heard = append(heard, got...)
		}
	}
	if f := zeroCrossHz(heard[5*audio.FrameSamples:], audio.SampleRate); f < 400 || f > 480 {
		t.Fatalf("the node decoded %f Hz, want 440", f)
	}
	if st := node.OpusStats(); st.Decoded == 0 {
		t.Fatalf("nothing decoded: %+v", st)
	}
}
