package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"parley/media/audio"
	"parley/media/signal"
	"parley/media/webbridge"
	"parley/media/webbridge/webbridgetest"
)

// mediaTestNode starts a node on loopback with the given audio; it stops when
// the test ends.
func mediaTestNode(t *testing.T, name, in, out string) *Node {
	t.Helper()
	n, err := New(Config{DataDir: t.TempDir(), Name: name, Listen: "127.0.0.1:0", AudioIn: in, AudioOut: out,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

// waitCallState reads n's events until the call reaches state.
func waitCallState(t *testing.T, n *Node, state string) CallState {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-n.Events():
			if e, ok := ev.(CallState); ok && e.State == state {
				return e
			}
		case <-timeout:
			t.Fatalf("%s: no call_state %q", n.displayName(), state)
		}
	}
}

// wavSoFar reads what a call has recorded so far: the WAV sink's header is
// brought up to date every second, so this lags by at most that.
func wavSoFar(t *testing.T, path string) []int16 {
	t.Helper()
	src, err := audio.OpenWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []int16
	frame := make([]int16, audio.FrameSamples)
	for {
		err := src.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, frame...)
	}
}

// recordMore waits until the recording at path holds seconds more than from,
// and returns that stretch, without its first skip seconds.
func recordMore(t *testing.T, path string, from int, skip, seconds float64) []int16 {
	t.Helper()
	end := from + int(seconds*audio.SampleRate)
	deadline := time.Now().Add(time.Duration(seconds*float64(time.Second)) + 20*time.Second)
	for {
		rec := wavSoFar(t, path)
		if len(rec) >= end {
			return rec[from+int(skip*audio.SampleRate) : end]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the recording holds %d samples, want %d", len(rec), end)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// browserHeard waits until the browser has heard seconds of audio and
// returns the last second of it.
func browserHeard(t *testing.T, b *webbridgetest.Browser, seconds float64) []int16 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, _ := b.Recording()
		if len(rec) >= int(seconds*audio.SampleRate) {
			return rec[len(rec)-audio.SampleRate:]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser heard %d samples", len(rec))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// toneAt is the median level of hz in 200 ms windows of x, as the call
// integration tests judge a tone (itest/call_test.go).
func toneAt(x []int16, hz float64) float64 {
	return signal.MedianToneLevel(x, hz, audio.SampleRate, audio.SampleRate/5)
}

// expectTone checks x holds hz loud and each of absent hardly at all.
func expectTone(t *testing.T, who string, x []int16, hz float64, absent ...float64) {
	t.Helper()
	lvl := toneAt(x, hz)
	t.Logf("%s: %.0f Hz at %.3f of full scale, dominant %.1f Hz", who, hz, lvl, signal.DominantFrequency(x, audio.SampleRate))
	if lvl < 0.1 { // sent at 0.25–0.3
		t.Errorf("%s hears %.0f Hz at only %.3f", who, hz, lvl)
	}
	for _, a := range absent {
		if l := toneAt(x, a); l > 0.02 {
			t.Errorf("%s hears %.0f Hz at %.3f, which should be gone", who, a, l)
		}
	}
}

// nonLoopback gathers where the node's calls do (they use no loopback
// candidates): the machine's own address, so nothing leaves the machine.
func nonLoopback(name string) bool { return name != "lo" }

func hasNonLoopbackIPv4(t *testing.T) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && ip.IP.To4() != nil && !ip.IP.IsLoopback() {
			return true
		}
	}
	return false
}

// A guest's node (browser audio) calls an ordinary node: the call starts
// before the page connects (silence), carries the page's tone once it does,
// the ordinary node's tone reaches the page, and a second page replaces the
// first under the running call.
func TestBrowserAudioThroughACall(t *testing.T) {
	if !hasNonLoopbackIPv4(t) {
		t.Skip("calls need a non-loopback IPv4 address")
	}
	wav := filepath.Join(t.TempDir(), "b.wav")
	a := mediaTestNode(t, "a", "null", "null")
	a.useBrowserAudio()
	b := mediaTestNode(t, "b", "tone:660", wav)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.AddPeer(ctx, fmt.Sprintf("127.0.0.1:%d", b.ov.Port())); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !a.ov.Online(b.ID()) {
		if time.Now().After(deadline) {
			t.Fatal("b never came online at a")
		}
		time.Sleep(20 * time.Millisecond)
	}
	id, err := a.Call(b.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	waitCallState(t, b, "incoming")
	if err := b.Answer(id); err != nil {
		t.Fatal(err)
	}
	waitCallState(t, a, "active")
	waitCallState(t, b, "active")

	// No page yet: b hears silence.
	quiet := recordMore(t, wav, 0, 0, 1)
	if r := signal.RMS(quiet); r > 0.005 {
		t.Errorf("before any page connected b heard %.4f RMS", r)
	}

	connect := func(hz float64) *webbridgetest.Browser {
		br := webbridgetest.New(t, webbridgetest.Config{Interfaces: nonLoopback})
		answer, err := a.ConnectMedia(ctx, br.Offer())
		if err != nil {
			t.Fatal(err)
		}
		br.Accept(answer)
		br.SendTone(hz, 0.3)
		return br
	}
	// The recording's header lags by up to a second (and set-up takes a
	// moment): what was recorded after the page connected is judged from
	// 1.5 s past the length seen before.
	from := len(wavSoFar(t, wav))
	first := connect(440)
	expectTone(t, "b (first page)", recordMore(t, wav, from, 1.5, 3), 440)
	expectTone(t, "the first page", browserHeard(t, first, 1.5), 660)
	st, ok := a.MediaStats()
	if !ok || st.PacketsIn == 0 || st.FramesIn == 0 || st.PacketsOut == 0 {
		t.Errorf("bridge stats: %v %+v", ok, st)
	}
	t.Logf("first bridge: %+v", st)

	// A reload: a new offer replaces the bridge under the call.
	from = len(wavSoFar(t, wav))
	second := connect(550)
	expectTone(t, "b (second page)", recordMore(t, wav, from, 1.5, 3), 550, 440)
	expectTone(t, "the second page", browserHeard(t, second, 1.5), 660)
	_, firstPackets := first.Recording()
	time.Sleep(300 * time.Millisecond)
	if _, n := first.Recording(); n != firstPackets {
		t.Errorf("the replaced page still receives audio (%d → %d packets)", firstPackets, n)
	}

	// Disconnected: the call goes on, silent; a new call uses the same path.
	a.DisconnectMedia()
	if _, ok := a.MediaStats(); ok {
		t.Error("stats of a disconnected bridge")
	}
	from = len(wavSoFar(t, wav))
	if r := signal.RMS(recordMore(t, wav, from, 1.5, 2.5)); r > 0.005 {
		t.Errorf("after DisconnectMedia b heard %.4f RMS", r)
	}
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCallState(t, b, "ended")
}

// Bad offers are refused with the bridge's errors and change nothing.
func TestConnectMediaRefusesBadOffers(t *testing.T) {
	a := mediaTestNode(t, "a", "null", "null")
	ctx := context.Background()
	if _, err := a.ConnectMedia(ctx, "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"); !errors.Is(err, webbridge.ErrOfferMedia) {
		t.Errorf("video offer: %v", err)
	}
	if _, err := a.ConnectMedia(ctx, string(make([]byte, webbridge.MaxOfferBytes+1))); !errors.Is(err, webbridge.ErrOfferTooLarge) {
		t.Errorf("huge offer: %v", err)
	}
	if _, ok := a.MediaStats(); ok {
		t.Error("a refused offer left a bridge")
	}
	if n := a.stats.Get("media_offer_refused"); n != 2 {
		t.Errorf("media_offer_refused = %d, want 2", n)
	}
	// A node that never connected a page opens its own audio for calls.
	src, sink, err := a.openAudio()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	defer sink.Close()
	if _, ok := sink.(bridgeSink); ok {
		t.Error("openAudio bridged without a page")
	}
	a.Stop()
	br := webbridgetest.New(t, webbridgetest.Loopback)
	if _, err := a.ConnectMedia(ctx, br.Offer()); !errors.Is(err, ErrMediaStopped) {
		t.Errorf("a stopped node: %v", err)
	}
}
