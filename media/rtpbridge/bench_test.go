package rtpbridge

import (
	"math"
	"net/netip"
	"testing"

	"github.com/pion/rtp"

	"parley/media/audio"
)

// BenchmarkTranscodeFrame is one 20 ms frame each way through the bridge's
// G.711 path without the socket: 48 kHz → 8 kHz → µ-law → RTP (what the
// sink does) and RTP → µ-law → 8 kHz → 48 kHz → the queue → a read (what
// the receive loop and the source do). A call does this 50 times a second:
// ns/op × 50 / 1e9 is the share of one core a bridged call's transcoding
// costs.
func BenchmarkTranscodeFrame(b *testing.B) {
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	br := &Bridge{remote: Media{Addr: from, PT: PTPCMU}}
	frame := make([]int16, audio.FrameSamples)
	for i := range frame {
		frame[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/audio.SampleRate))
	}
	var s8 [samples8k]int16
	payload := make([]byte, samples8k)
	pcm8 := make([]int16, maxPayload8k)
	out := make([]int16, audio.FrameSamples)
	src := br.Source()
	b.ReportAllocs()
	for b.Loop() {
		down48to8(s8[:], frame)
		for i, v := range s8 {
			payload[i] = ulawEncode(v)
		}
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: PTPCMU}, Payload: payload}
		raw, _ := p.Marshal()
		br.lastSec = -1 // not the rate bound: one call's 50 packets a second
		br.receive(raw, from, pcm8)
		src.ReadFrame(out)
	}
	if st := br.Stats(); st.PacketsIn != uint64(b.N) || st.DropRate != 0 {
		b.Fatalf("%+v after %d frames", st, b.N)
	}
}
