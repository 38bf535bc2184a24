// Package webbridgetest is a stand-in browser for tests of the browser audio
// bridge (package webbridge) and of what is built on it: a pion offerer with
// one Opus track each way, like a guest page's RTCPeerConnection, fed with a
// tone through Parley's own Opus encoder and recording what it hears through
// the decoder. Only tests import it.
package webbridgetest

import (
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/transport/v2"
	"github.com/pion/webrtc/v3"

	"parley/media/audio"
	"parley/media/opus"
)

// MaxHeard bounds a Browser's recording: 10 s.
const MaxHeard = 10 * audio.SampleRate

// Browser is one fake browser tab.
type Browser struct {
	t     testing.TB
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	stop  chan struct{}
	once  sync.Once
	// recvOnly: no microphone (Config.ReceiveOnly).
	recvOnly bool
	wg       sync.WaitGroup

	mu    sync.Mutex
	heard []int16
	pkts  int
}

// Config says where the browser gathers candidates.
type Config struct {
	// Interfaces keeps the interfaces it gathers on (nil: all);
	// IncludeLoopback lets it use loopback candidates.
	Interfaces      func(name string) bool
	IncludeLoopback bool
	// ReceiveOnly offers to receive audio only (a page without a
	// microphone); SendTone then does nothing.
	ReceiveOnly bool
	// Net replaces the OS network (pion vnet); nil: the OS's.
	Net transport.Net
	// PayloadType is the one the browser gives Opus: 0 means 111 (Chrome's);
	// Firefox uses 109.
	PayloadType uint8
	// MDNS hides the browser's host addresses behind a random ".local" name
	// answered over mDNS, as Chrome and Firefox do for a page without
	// microphone permission.
	MDNS bool
}

// Loopback gathers on the loopback interface only: nothing leaves the machine.
var Loopback = Config{Interfaces: func(name string) bool { return name == "lo" }, IncludeLoopback: true}

// New makes a browser; it is closed when the test ends.
func New(t testing.TB, cfg Config) *Browser {
	t.Helper()
	me := &webrtc.MediaEngine{}
	// Chrome's Opus line.
	opusLine := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
	pt := cfg.PayloadType
	if pt == 0 {
		pt = 111
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusLine, PayloadType: webrtc.PayloadType(pt)}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if cfg.MDNS {
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryAndGather)
	}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if cfg.Interfaces != nil {
		se.SetInterfaceFilter(cfg.Interfaces)
	}
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	if cfg.Net != nil {
		se.SetNet(cfg.Net)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(opusLine, "mic", "browser")
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{t: t, pc: pc, track: track, stop: make(chan struct{}), recvOnly: cfg.ReceiveOnly}
	if cfg.ReceiveOnly {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	} else {
		sender, err := pc.AddTrack(track)
		if err != nil {
			t.Fatal(err)
		}
		b.wg.Add(1)
		go func() { defer b.wg.Done(); drain(sender.Read) }()
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		select {
		case <-b.stop:
			return
		default:
		}
		b.wg.Add(2)
		go func() { defer b.wg.Done(); drain(r.Read) }()
		defer b.wg.Done()
		b.listen(tr)
	})
	t.Cleanup(b.Close)
	return b
}

func (b *Browser) listen(tr *webrtc.TrackRemote) {
	dec, err := opus.NewDecoder()
	if err != nil {
		b.t.Error(err)
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
			b.t.Errorf("browser: decode: %v", err)
			continue
		}
		b.mu.Lock()
		b.pkts++
		if len(b.heard)+n <= MaxHeard {
			b.heard = append(b.heard, pcm[:n]...)
		}
		b.mu.Unlock()
	}
}

func drain(read func([]byte) (int, interceptor.Attributes, error)) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := read(buf); err != nil && !errors.Is(err, io.ErrShortBuffer) {
			return
		}
	}
}

// Offer returns the complete offer (gathering finished), as a guest page
// sends it.
func (b *Browser) Offer() string {
	b.t.Helper()
	o, err := b.pc.CreateOffer(nil)
	if err != nil {
		b.t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(o); err != nil {
		b.t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.t.Fatal("browser: gathering did not finish")
	}
	return b.pc.LocalDescription().SDP
}

// Accept takes the bridge's answer.
func (b *Browser) Accept(answer string) {
	b.t.Helper()
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		b.t.Fatal(err)
	}
}

// SendTone sends a tone of hz at amp (fraction of full scale) in 20 ms Opus
// packets, one every 20 ms, until Close.
func (b *Browser) SendTone(hz, amp float64) {
	if b.recvOnly {
		return
	}
	enc, err := opus.NewEncoder(opus.Options{})
	if err != nil {
		b.t.Fatal(err)
	}
	src := audio.NewTone(hz, amp)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		tick := time.NewTicker(audio.FrameDuration)
		defer tick.Stop()
		pcm := make([]int16, audio.FrameSamples)
		buf := make([]byte, opus.MaxPacket)
		var seq uint16 = 100
		var ts uint32 = 5000
		for {
			select {
			case <-b.stop:
				return
			case <-tick.C:
			}
			src.ReadFrame(pcm)
			n, err := enc.Encode(pcm, buf)
			if err != nil {
				b.t.Error(err)
				return
			}
			b.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111 /* pion puts the negotiated one */, SequenceNumber: seq, Timestamp: ts}, Payload: buf[:n]})
			seq++
			ts += audio.FrameSamples
		}
	}()
}

// Recording returns a copy of what the browser heard (at most MaxHeard
// samples) and how many packets it decoded.
func (b *Browser) Recording() ([]int16, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int16(nil), b.heard...), b.pkts
}

// Close ends the browser's connection and goroutines.
func (b *Browser) Close() {
	b.once.Do(func() {
		close(b.stop)
		b.pc.Close()
		b.wg.Wait()
	})
}
