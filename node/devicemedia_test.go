package node

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"parley/media/audio"
	"parley/media/rtpbridge"
)

// A phone's G.711 RTP is a device node's call audio both ways: a fake phone
// (rtpbridge facing the node's) sends 440 Hz and the peer hears it; the
// peer's 660 Hz reaches the phone.
func TestPhoneAudioThroughACall(t *testing.T) {
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
	eventually(t, "b online at a", func() bool { return a.ov.Online(b.ID()) })

	lo := netip.MustParseAddr("127.0.0.1")
	offer, err := a.SIPOffer(lo)
	if err != nil {
		t.Fatal(err)
	}
	phone, err := rtpbridge.Listen(lo, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	m, err := rtpbridge.ParseSDP([]byte(offer))
	if err != nil {
		t.Fatal(err)
	}
	phone.SetRemote(rtpbridge.Media{Addr: m.Addr, PT: rtpbridge.PTPCMA})
	if err := a.SIPAccept(lo, []byte(rtpbridge.BuildSDP(phone.LocalAddr(), 1, rtpbridge.PTPCMA))); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	heard := make(chan []int16, 1)
	go func() { // the phone: 440 Hz out, what it hears kept
		frame := make([]int16, audio.FrameSamples)
		in := make([]int16, audio.FrameSamples)
		var got []int16
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				heard <- got
				return
			case <-tick.C:
			}
			for k := range frame {
				frame[k] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*audio.FrameSamples+k)/audio.SampleRate))
			}
			phone.Sink().WriteFrame(frame)
			phone.Source().ReadFrame(in)
			got = append(got, in...)
		}
	}()
	id, err := b.Call(a.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	waitCallState(t, a, "incoming")
	if err := a.Answer(id); err != nil {
		t.Fatal(err)
	}
	waitCallState(t, b, "active")
	if !hearTone(t, "b", wav, 0, 440, 660) {
		logCallStats(t, a)
		t.Logf("a's rtp: %+v", a.media.rtp.Stats())
	}
	stop <- struct{}{}
	got := <-heard
	if len(got) < 3*audio.SampleRate {
		t.Fatalf("the phone heard %d samples", len(got))
	}
	expectTone(t, "phone", got[len(got)-2*audio.SampleRate:], 660, 440)
	a.SIPMediaEnd()
}

// A phone that answers 486 makes its node refuse the call as busy: the
// caller sees "busy".
func TestDeclineBusy(t *testing.T) {
	a := mediaTestNode(t, "a", "null", "null")
	b := mediaTestNode(t, "b", "null", "null")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.AddPeer(ctx, fmt.Sprintf("127.0.0.1:%d", b.ov.Port())); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b online at a", func() bool { return a.ov.Online(b.ID()) })
	id, err := a.Call(b.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	waitCallState(t, b, "incoming")
	if err := b.DeclineBusy(id); err != nil {
		t.Fatal(err)
	}
	if e := waitCallState(t, a, "ended"); e.Reason != "busy" {
		t.Fatalf("the caller's call ended %q, want busy", e.Reason)
	}
}
