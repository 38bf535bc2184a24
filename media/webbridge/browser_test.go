package webbridge

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"parley/media/audio"
	"parley/media/opus"
)

// fakeBrowser stands in for a browser tab: a pion offerer with one Opus track
// each way, fed by a tone through the project's encoder, recording what it
// hears through the project's decoder. It gathers on loopback only.
type fakeBrowser struct {
	t     testing.TB
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	stop  chan struct{}
	wg    sync.WaitGroup

	mu    sync.Mutex
	heard []int16 // decoded audio from the bridge, at most maxHeard samples
	pkts  int
}

// maxHeard bounds the recording: 10 s.
const maxHeard = 10 * audio.SampleRate

// loopbackOnly gathers on the loopback interface only, so tests send nothing
// off the machine.
func loopbackOnly(name string) bool { return name == "lo" }

func newFakeBrowser(t testing.TB) *fakeBrowser {
	t.Helper()
	me := &webrtc.MediaEngine{}
	// Chrome's Opus line.
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(loopbackOnly)
	se.SetIncludeLoopbackCandidate(true)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "browser")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBrowser{t: t, pc: pc, track: track, stop: make(chan struct{})}
	f.wg.Add(1)
	go func() { defer f.wg.Done(); drainRTCP(sender.Read) }()
	pc.OnTrack(func(tr *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		f.wg.Add(1)
		defer f.wg.Done()
		go drainRTCP(r.Read)
		dec, err := opus.NewDecoder()
		if err != nil {
			t.Error(err)
			return
		}
		pcm := make([]int16, 6*audio.FrameSamples)
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			n, err := dec.Decode(p.Payload, pcm)
			if err != nil {
				t.Errorf("browser: decode: %v", err)
				continue
			}
			f.mu.Lock()
			f.pkts++
			if len(f.heard)+n <= maxHeard {
				f.heard = append(f.heard, pcm[:n]...)
			}
			f.mu.Unlock()
		}
	})
	t.Cleanup(f.close)
	return f
}

// offer returns the complete offer (gathering finished), as a browser's page
// sends it.
func (f *fakeBrowser) offer() string {
	f.t.Helper()
	o, err := f.pc.CreateOffer(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(f.pc)
	if err := f.pc.SetLocalDescription(o); err != nil {
		f.t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		f.t.Fatal("browser: gathering did not finish")
	}
	return f.pc.LocalDescription().SDP
}

func (f *fakeBrowser) accept(answer string) {
	f.t.Helper()
	if err := f.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		f.t.Fatal(err)
	}
}

// sendTone sends a tone of hz at amp (fraction of full scale) every 20 ms
// until close, encoded as a browser would (Opus, 20 ms packets).
func (f *fakeBrowser) sendTone(hz, amp float64) {
	enc, err := opus.NewEncoder(opus.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	src := audio.NewTone(hz, amp)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		tick := time.NewTicker(audio.FrameDuration)
		defer tick.Stop()
		pcm := make([]int16, audio.FrameSamples)
		buf := make([]byte, opus.MaxPacket)
		var seq uint16 = 100
		var ts uint32 = 5000
		for {
			select {
			case <-f.stop:
				return
			case <-tick.C:
			}
			src.ReadFrame(pcm)
			n, err := enc.Encode(pcm, buf)
			if err != nil {
				f.t.Error(err)
				return
			}
			f.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts}, Payload: buf[:n]})
			seq++
			ts += audio.FrameSamples
		}
	}()
}

// recording returns a copy of what the browser heard and the packet count.
func (f *fakeBrowser) recording() ([]int16, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int16(nil), f.heard...), f.pkts
}

func (f *fakeBrowser) close() {
	select {
	case <-f.stop:
		return
	default:
	}
	close(f.stop)
	f.pc.Close()
	f.wg.Wait()
}

// connect runs the offer/answer between a fake browser and a new bridge on
// loopback, with edit applied to the offer first (nil: as is).
func connect(t *testing.T, edit func(string) string) (*fakeBrowser, *Bridge) {
	t.Helper()
	f := newFakeBrowser(t)
	b, err := New(Config{Interfaces: loopbackOnly, IncludeLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	offer := f.offer()
	if edit != nil {
		offer = edit(offer)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := b.Answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(answer, "a=candidate:") || !strings.Contains(answer, "opus/48000") {
		t.Fatalf("answer without candidates or Opus:\n%s", answer)
	}
	f.accept(answer)
	return f, b
}

// waitFor polls cond until it holds or d passes (the network is real).
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readPaced reads frames from src every 20 ms, as a call's loop does, and
// returns them joined.
func readPaced(t *testing.T, src audio.Source, frames int) []int16 {
	t.Helper()
	tick := time.NewTicker(audio.FrameDuration)
	defer tick.Stop()
	out := make([]int16, 0, frames*audio.FrameSamples)
	frame := make([]int16, audio.FrameSamples)
	for range frames {
		<-tick.C
		if err := src.ReadFrame(frame); err != nil {
			t.Fatal(err)
		}
		out = append(out, frame...)
	}
	return out
}

// dropSilence leaves out the frames at the start that are silent (before the
// stream began).
func dropSilence(x []int16) []int16 {
	for len(x) >= audio.FrameSamples {
		loud := false
		for _, v := range x[:audio.FrameSamples] {
			if v > 300 || v < -300 {
				loud = true
				break
			}
		}
		if loud {
			break
		}
		x = x[audio.FrameSamples:]
	}
	return x
}

// dbfs of a sine of peak amp (fraction of full scale).
func sineDBFS(amp float64) float64 { return 20 * math.Log10(amp/math.Sqrt2) }
