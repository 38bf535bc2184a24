package rtpbridge

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"parley/media/audio"
)

// Digits sent by one bridge's sink arrive at the other's OnDTMF once each,
// in order, and the packets follow RFC 4733: one timestamp per event, the
// marker on its first packet only, growing durations, the end three times.
func TestDTMFBothWays(t *testing.T) {
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
	a.SetRemote(Media{Addr: b.LocalAddr(), PT: PTPCMU, EventPT: PTEvent})
	b.SetRemote(Media{Addr: a.LocalAddr(), PT: PTPCMU, EventPT: PTEvent})
	got := make(chan byte, 64)
	b.OnDTMF(func(d byte) { got <- d })
	if err := a.SendDTMF("1*#D"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "12x", "E", string(make([]byte, 33))} {
		if a.SendDTMF(bad) == nil {
			t.Fatalf("SendDTMF(%q) accepted", bad)
		}
	}
	frame := make([]int16, audio.FrameSamples)
	for range 4 * (toneFrames + gapFrames + 1) {
		if err := a.Sink().WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	var heard []byte
	deadline := time.After(10 * time.Second)
	for len(heard) < 4 {
		select {
		case d := <-got:
			heard = append(heard, d)
		case <-deadline:
			t.Fatalf("heard %q", heard)
		}
	}
	if string(heard) != "1*#D" {
		t.Fatalf("heard %q, want 1*#D", heard)
	}
	st := a.Stats()
	if want := uint64(4 * (toneFrames + endRepeats)); st.EventsOut != want {
		t.Fatalf("sent %d event packets, want %d", st.EventsOut, want)
	}
	// The phone's three end packets each, collapsed to one digit.
	waitFor(t, func() bool { return b.Stats().DupEvents == 4*(endRepeats-1) })
	if st := b.Stats(); st.EventsIn != 4 || st.DropEvent != 0 {
		t.Fatalf("receiver stats %+v", st)
	}
}

// The packets of one digit, captured from the sink on a plain socket.
func TestDTMFPacketsFollowRFC4733(t *testing.T) {
	a, err := Listen(loopback, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	pc := listenUDP(t)
	a.SetRemote(Media{Addr: pc.LocalAddr(), PT: PTPCMA, EventPT: 96})
	if err := a.SendDTMF("7"); err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, audio.FrameSamples)
	for range toneFrames + gapFrames + 2 {
		a.Sink().WriteFrame(frame)
	}
	var evs []rtp.Packet
	voice := 0
	for range toneFrames + endRepeats + gapFrames + 1 {
		p := pc.read(t)
		if p.PayloadType == PTPCMA {
			voice++
			continue
		}
		evs = append(evs, p)
	}
	if len(evs) != toneFrames+endRepeats || voice != gapFrames+1 {
		t.Fatalf("%d event packets, %d voice", len(evs), voice)
	}
	for i, p := range evs {
		e, err := DecodeEvent(p.Payload)
		if err != nil || p.PayloadType != 96 || e.Code != 7 || e.Volume != eventVolume {
			t.Fatalf("packet %d: %+v %v", i, e, err)
		}
		if p.Timestamp != evs[0].Timestamp || p.Marker != (i == 0) {
			t.Fatalf("packet %d: ts %d marker %v", i, p.Timestamp, p.Marker)
		}
		end := i >= toneFrames
		wantDur := uint16(min(i+1, toneFrames) * samples8k)
		if e.End != end || e.Duration != wantDur {
			t.Fatalf("packet %d: end %v duration %d, want %v %d", i, e.End, e.Duration, end, wantDur)
		}
		if i > 0 && p.SequenceNumber != evs[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: seq %d after %d", i, p.SequenceNumber, evs[i-1].SequenceNumber)
		}
	}
}

// Refused telephone-events are counted and reported nothing.
func TestDTMFRefused(t *testing.T) {
	b, err := Listen(loopback, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	b.SetRemote(Media{Addr: from, PT: PTPCMU})
	if err := b.SendDTMF("1"); err != ErrNoEvents {
		t.Fatalf("SendDTMF without telephone-event: %v", err)
	}
	b.SetRemote(Media{Addr: from, PT: PTPCMU, EventPT: PTEvent})
	var got []byte
	b.OnDTMF(func(d byte) { got = append(got, d) })
	pcm := make([]int16, maxPayload8k)
	send := func(ts uint32, payload []byte) {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: PTEvent, Timestamp: ts}, Payload: payload}
		raw, _ := p.Marshal()
		b.receive(raw, from, pcm)
	}
	send(1, []byte{16, 0x8a, 0, 160})      // event 16: not DTMF
	send(2, []byte{1, 0x8a, 0, 0})         // end with zero duration
	send(3, []byte{1, 0x8a, 0})            // short
	send(4, []byte{1, 0x8a, 0, 160, 2, 0}) // long
	send(5, []byte{1, 0x0a, 0, 160})       // not the end: nothing yet
	if len(got) != 0 || b.Stats().DropEvent != 4 {
		t.Fatalf("got %q, stats %+v", got, b.Stats())
	}
	send(5, []byte{1, 0x8a, 1, 64})
	send(5, []byte{1, 0x8a, 1, 64})
	if !bytes.Equal(got, []byte("1")) || b.Stats().DupEvents != 1 {
		t.Fatalf("got %q, stats %+v", got, b.Stats())
	}
	// More than maxDigitsPerSec distinct events in a second are dropped.
	for i := range 2 * maxDigitsPerSec {
		send(uint32(100+i), []byte{2, 0x8a, 0, 160})
	}
	if n := bytes.Count(got, []byte("2")); n < maxDigitsPerSec-1 || n > maxDigitsPerSec {
		t.Fatalf("%d digits of 40 passed the rate bound", n)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte{11, 0x8a, 3, 32})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{255, 255, 255})
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := DecodeEvent(p)
		if err != nil {
			return
		}
		if DigitOf(e.Code) == 0 || e.Code > 15 || (e.End && e.Duration == 0) {
			t.Fatalf("accepted %x as %+v", p, e)
		}
		if again := AppendEvent(nil, e); !bytes.Equal(again[:1], p[:1]) || !bytes.Equal(again[2:], p[2:]) {
			t.Fatalf("round trip %x → %x", p, again)
		}
	})
}

type udpPeer struct{ c *net.UDPConn }

func listenUDP(t *testing.T) udpPeer {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return udpPeer{c}
}

func (u udpPeer) LocalAddr() netip.AddrPort { return u.c.LocalAddr().(*net.UDPAddr).AddrPort() }

func (u udpPeer) read(t *testing.T) rtp.Packet {
	t.Helper()
	u.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, maxPacket)
	n, err := u.c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	var p rtp.Packet
	if err := p.Unmarshal(buf[:n]); err != nil {
		t.Fatal(err)
	}
	return p
}

// The payload bytes docs/sip.md gives for '#'.
func TestEventBytesAsDocumented(t *testing.T) {
	if b := AppendEvent(nil, Event{Code: 11, Volume: 10, Duration: 160}); !bytes.Equal(b, []byte{0x0b, 0x0a, 0x00, 0xa0}) {
		t.Fatalf("start % x", b)
	}
	if b := AppendEvent(nil, Event{Code: 11, End: true, Volume: 10, Duration: 800}); !bytes.Equal(b, []byte{0x0b, 0x8a, 0x03, 0x20}) {
		t.Fatalf("end % x", b)
	}
}
