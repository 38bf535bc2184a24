package webbridge

import (
	"context"
	"errors"
	"math"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"parley/media/audio"
	"parley/media/signal"
	"parley/media/webbridge/webbridgetest"
)

// judgeTone checks that x carries a tone of hz at about amp of full scale
// the way the call integration tests judge one: the median level of 200 ms
// windows (a queue trim or a concealed frame shifts the phase, and one long
// DFT bin would cancel across it), the dominant frequency, and a tone that
// was not sent staying absent.
func judgeTone(t *testing.T, who string, x []int16, hz, amp float64) {
	t.Helper()
	if len(x) < audio.SampleRate {
		t.Fatalf("%s: %d samples of sound, want at least a second", who, len(x))
	}
	lvl := signal.MedianToneLevel(x, hz, audio.SampleRate, audio.SampleRate/5)
	other := signal.MedianToneLevel(x, hz*1.5, audio.SampleRate, audio.SampleRate/5)
	f := signal.DominantFrequency(x, audio.SampleRate)
	t.Logf("%s: %.1f Hz dominant, %.0f Hz at %.3f of full scale (sent %.2f), %.0f Hz at %.4f", who, f, hz, lvl, amp, hz*1.5, other)
	if math.Abs(f-hz) > 5 {
		t.Errorf("%s hears %.1f Hz, want %.0f", who, f, hz)
	}
	if lvl < amp/2 {
		t.Errorf("%s hears %.0f Hz at %.3f, sent at %.2f", who, hz, lvl, amp)
	}
	if other > amp/10 {
		t.Errorf("%s hears %.0f Hz, which nobody sent, at %.3f", who, hz*1.5, other)
	}
}

// The browser's tone comes out of Source as 20 ms frames, and a tone written
// to Sink reaches the browser, over a real DTLS-SRTP connection on loopback.
func TestToneBothWays(t *testing.T) {
	f, b := connect(t, nil)
	f.SendTone(440, 0.3)
	waitFor(t, 10*time.Second, "the browser's audio", func() bool { return b.Stats().PacketsIn >= 10 })
	if s := b.State(); s != "connected" {
		t.Fatalf("state %q with audio flowing", s)
	}

	// What the call sends the browser: 660 Hz, paced as a call's loop paces.
	sinkDone := make(chan struct{})
	go func() {
		defer close(sinkDone)
		tone, sink := audio.NewTone(660, 0.3), b.Sink()
		tick := time.NewTicker(audio.FrameDuration)
		defer tick.Stop()
		frame := make([]int16, audio.FrameSamples)
		for range 100 {
			<-tick.C
			tone.ReadFrame(frame)
			if err := sink.WriteFrame(frame); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	heard := dropSilence(readPaced(t, b.Source(), 100))
	<-sinkDone
	judgeTone(t, "the call (from the browser)", heard[min(len(heard), audio.FrameSamples):], 440, 0.3)

	waitFor(t, 5*time.Second, "the call's audio at the browser", func() bool { _, n := f.Recording(); return n >= 75 })
	got, _ := f.Recording()
	judgeTone(t, "the browser", dropSilence(got), 660, 0.3)

	s := b.Stats()
	t.Logf("stats: %+v", s)
	if want := sineDBFS(0.3); math.Abs(s.Level-want) > 3 {
		t.Errorf("inbound level %.1f dBFS, the browser sends %.1f", s.Level, want)
	}
	if s.Remote != "host" {
		t.Errorf("the pair in use has a %q remote candidate, the browser offered host ones", s.Remote)
	}
	if s.FramesIn == 0 || s.FramesOut != 100 || s.PacketsOut == 0 || s.DecodeErrors+s.Refused+s.EncodeErrors+s.SendErrors != 0 {
		t.Errorf("counters: %+v", s)
	}
}

// A browser whose host candidates are mDNS names nobody answers for (or that
// sent none at all) is still reached: its checks to our candidates arrive,
// and their source becomes a peer-reflexive candidate.
func TestPeerReflexiveWithoutBrowserCandidates(t *testing.T) {
	strip := regexp.MustCompile(`(?m)^a=candidate:.*\r?\n`)
	f, b := connect(t, func(o string) string {
		o = strip.ReplaceAllString(o, "")
		if strings.Contains(o, "a=candidate:") {
			t.Fatal("candidates left in the offer")
		}
		return o
	})
	f.SendTone(440, 0.3)
	waitFor(t, 15*time.Second, "the browser's audio", func() bool { return b.Stats().PacketsIn >= 10 })
	heard := dropSilence(readPaced(t, b.Source(), 75))
	judgeTone(t, "the call", heard[min(len(heard), audio.FrameSamples):], 440, 0.3)
	if r := b.Stats().Remote; r != "prflx" {
		t.Errorf("the pair in use has a %q remote candidate, want prflx", r)
	}
}

// Firefox gives Opus payload type 109: the answer follows, and the audio
// flows both ways under it.
func TestFirefoxPayloadType(t *testing.T) {
	fc := webbridgetest.Loopback
	fc.PayloadType = 109
	f, b := connectWith(t, fc, Config{Interfaces: loopbackOnly, IncludeLoopback: true}, nil)
	f.SendTone(440, 0.3)
	waitFor(t, 10*time.Second, "the browser's audio", func() bool { return b.Stats().PacketsIn >= 10 })
	sink, frame := b.Sink(), make([]int16, audio.FrameSamples)
	tone := audio.NewTone(660, 0.3)
	tick := time.NewTicker(audio.FrameDuration)
	defer tick.Stop()
	var heard []int16
	for range 75 {
		<-tick.C
		tone.ReadFrame(frame)
		sink.WriteFrame(frame)
		b.Source().ReadFrame(frame)
		heard = append(heard, frame...)
	}
	heard = dropSilence(heard)
	judgeTone(t, "the call", heard[min(len(heard), audio.FrameSamples):], 440, 0.3)
	waitFor(t, 5*time.Second, "the call's audio at the browser", func() bool { _, n := f.Recording(); return n >= 50 })
	got, _ := f.Recording()
	judgeTone(t, "the browser", dropSilence(got), 660, 0.3)
	if s := b.Stats(); s.Refused != 0 {
		t.Errorf("%d packets refused", s.Refused)
	}
}

// A canned browser offer (Chrome 120's shape, trimmed): what CheckOffer
// accepts, and the base of the hostile variants.
const chromeOffer = "v=0\r\n" +
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=group:BUNDLE 0\r\n" +
	"a=msid-semantic: WMS\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=rtcp:9 IN IP4 0.0.0.0\r\n" +
	"a=candidate:1 1 udp 2122260223 3c0b9ba2-6b4c-4f1e-8b5e-7d1f5c0e9a11.local 54321 typ host generation 0\r\n" +
	"a=ice-ufrag:abcd\r\n" +
	"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=ice-options:trickle\r\n" +
	"a=fingerprint:sha-256 9C:2D:4E:3B:1A:7F:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:10:32\r\n" +
	"a=setup:actpass\r\n" +
	"a=mid:0\r\n" +
	"a=sendrecv\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtpmap:111 opus/48000/2\r\n" +
	"a=rtcp-fb:111 transport-cc\r\n" +
	"a=fmtp:111 minptime=10;useinbandfec=1\r\n" +
	"a=rtpmap:63 red/48000/2\r\n" +
	"a=rtpmap:9 G722/8000\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:13 CN/8000\r\n" +
	"a=rtpmap:110 telephone-event/48000\r\n" +
	"a=rtpmap:126 telephone-event/8000\r\n" +
	"a=ssrc:1001 cname:abc\r\n"

const videoSection = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=mid:1\r\n" +
	"a=sendrecv\r\n" +
	"a=rtpmap:96 VP8/90000\r\n"

func TestCheckOffer(t *testing.T) {
	audioOnly := chromeOffer
	session, audioSection, _ := strings.Cut(chromeOffer, "m=audio")
	audioSection = "m=audio" + audioSection
	noOpus := strings.NewReplacer("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 ISAC/16000").Replace(audioOnly)
	opusUnlisted := strings.Replace(audioOnly, "SAVPF 111 63", "SAVPF 63", 1)
	for _, c := range []struct {
		name, sdp string
		want      error
	}{
		{"chrome", audioOnly, nil},
		{"garbage", "this is not SDP \x00\xff", ErrOfferSyntax},
		{"empty", "", ErrOfferMedia},
		{"huge", audioOnly + strings.Repeat("a=x-padding:"+strings.Repeat("z", 1000)+"\r\n", 70), ErrOfferTooLarge},
		{"video only", session + videoSection, ErrOfferMedia},
		{"audio and video", audioOnly + videoSection, ErrOfferMedia},
		{"two audio", audioOnly + strings.Replace(audioSection, "a=mid:0", "a=mid:1", 1), ErrOfferMedia},
		{"no media", session, ErrOfferMedia},
		{"no opus", noOpus, ErrOfferNoOpus},
		{"opus not listed", opusUnlisted, ErrOfferNoOpus},
	} {
		err := CheckOffer(c.sdp)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("%s: an error of %d bytes", c.name, len(err.Error()))
		}
	}
}

// Hostile offers are refused by Answer with the checker's error, and a bridge
// that refused one (or failed in pion) leaves no goroutine behind once closed.
func TestHostileOffersLeaveNothingBehind(t *testing.T) {
	before := runtime.NumGoroutine()
	session, _, _ := strings.Cut(chromeOffer, "m=audio")
	for _, c := range []struct {
		name, sdp string
		want      error
	}{
		{"garbage", "v=0\r\nnonsense", ErrOfferSyntax},
		{"huge", strings.Repeat("v", MaxOfferBytes+1), ErrOfferTooLarge},
		{"video only", session + videoSection, ErrOfferMedia},
		{"no opus", strings.Replace(chromeOffer, "opus/48000/2", "ISAC/16000", 1), ErrOfferNoOpus},
		// Passes the check; pion refuses it (no fingerprint: no DTLS).
		{"no fingerprint", regexp.MustCompile(`(?m)^a=fingerprint:.*\r\n`).ReplaceAllString(chromeOffer, ""), nil},
	} {
		b, err := New(Config{Interfaces: loopbackOnly, IncludeLoopback: true})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = b.Answer(ctx, c.sdp)
		cancel()
		if err == nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		// Source and Sink go on giving silence and taking frames.
		frame := make([]int16, audio.FrameSamples)
		frame[0] = 1
		if err := b.Source().ReadFrame(frame); err != nil || frame[0] != 0 {
			t.Errorf("%s: source %v, %d", c.name, err, frame[0])
		}
		if err := b.Sink().WriteFrame(frame); err != nil {
			t.Errorf("%s: sink %v", c.name, err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("%s: close: %v", c.name, err)
		}
		if _, err := b.Answer(context.Background(), chromeOffer); !errors.Is(err, ErrClosed) {
			t.Errorf("%s: answer after close: %v", c.name, err)
		}
	}
	waitGoroutines(t, before)
}

// A bridge with no interface to gather on says so instead of answering
// with nowhere for the page to connect.
func TestNoCandidates(t *testing.T) {
	f := webbridgetest.New(t, webbridgetest.Loopback)
	b, err := New(Config{Interfaces: func(string) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Answer(context.Background(), f.Offer()); !errors.Is(err, ErrNoCandidates) {
		t.Fatalf("answer with no interfaces: %v", err)
	}
}

// A connected bridge and its browser, closed, leave no goroutine behind.
func TestCloseLeavesNothingBehind(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("connected", func(t *testing.T) {
		f, b := connect(t, nil)
		f.SendTone(440, 0.3)
		waitFor(t, 10*time.Second, "audio", func() bool { return b.Stats().PacketsIn > 0 })
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	})
	waitGoroutines(t, before)
}

// waitGoroutines waits for the goroutine count to come back to before: pion
// ends some of its goroutines (timers, the mDNS reader) just after Close.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A page without a microphone offers to receive only; it still hears the
// call, and the call hears silence from it.
func TestReceiveOnlyPage(t *testing.T) {
	fc := webbridgetest.Loopback
	fc.ReceiveOnly = true
	f, b := connectWith(t, fc, Config{Interfaces: loopbackOnly, IncludeLoopback: true}, nil)
	tone, sink := audio.NewTone(660, 0.3), b.Sink()
	frame := make([]int16, audio.FrameSamples)
	tick := time.NewTicker(audio.FrameDuration)
	defer tick.Stop()
	for i := 0; ; i++ {
		<-tick.C
		tone.ReadFrame(frame)
		sink.WriteFrame(frame)
		if _, n := f.Recording(); n >= 75 {
			break
		}
		if i > 15*50 {
			t.Fatal("the page heard nothing in 15 s")
		}
	}
	got, _ := f.Recording()
	judgeTone(t, "the page", dropSilence(got), 660, 0.3)
	if err := b.Source().ReadFrame(frame); err != nil || signal.RMS(frame) != 0 {
		t.Errorf("the call hears %v, %.3f from a page without a microphone", err, signal.RMS(frame))
	}
}
