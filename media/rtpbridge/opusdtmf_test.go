package rtpbridge

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"parley/media/audio"
)

// A phone that offers Opus keeps DTMF: telephone-event/48000 when it offers
// that clock, else its telephone-event/8000; answers and offers name each
// event type at its own clock.
func TestOpusKeepsDTMFInSDP(t *testing.T) {
	with48 := strings.Replace(baresipOpusOffer, "RTP/AVP 96 0 8 101", "RTP/AVP 96 0 8 97 101", 1) +
		"a=rtpmap:97 telephone-event/48000\r\na=fmtp:97 0-15\r\n"
	m, err := ParseSDP([]byte(with48))
	if err != nil || !m.Opus || m.EventPT != 97 || m.EventRate != 48000 {
		t.Fatalf("opus with both clocks: %+v, %v; want events 97 at 48 kHz", m, err)
	}
	b, err := Listen(loopback, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.SetRemote(m)
	if ans := b.SDP(SendRecv, m.PT, m.EventPT); !strings.Contains(ans, "a=rtpmap:97 telephone-event/48000\r\n") {
		t.Fatalf("answer to a 48 kHz event offer:\n%s", ans)
	}
	m8, err := ParseSDP([]byte(baresipOpusOffer))
	if err != nil {
		t.Fatal(err)
	}
	b.SetRemote(m8)
	if ans := b.SDP(SendRecv, m8.PT, m8.EventPT); !strings.Contains(ans, "a=rtpmap:101 telephone-event/8000\r\n") {
		t.Fatalf("answer to an 8 kHz event offer:\n%s", ans)
	}
	// A phone whose telephone-event/8000 is 102, our 48 kHz number: the
	// answer keeps its clock.
	b.SetRemote(Media{Addr: m8.Addr, PT: PTPCMU, EventPT: PTEvent48, EventRate: 8000})
	if ans := b.SDP(SendRecv, PTPCMU, PTEvent48); !strings.Contains(ans, "a=rtpmap:102 telephone-event/8000\r\n") {
		t.Fatalf("answer with the phone's 102 at 8 kHz:\n%s", ans)
	}
	offer := BuildSDP(b.LocalAddr(), 1, PTOpus, PTPCMU, PTPCMA, PTEvent48, PTEvent)
	for _, want := range []string{"a=rtpmap:102 telephone-event/48000\r\n", "a=rtpmap:101 telephone-event/8000\r\n"} {
		if !strings.Contains(offer, want) {
			t.Fatalf("own offer lacks %q:\n%s", want, offer)
		}
	}
	if m, err := ParseSDP([]byte(offer)); err != nil || !m.Opus || m.EventPT != PTEvent48 || m.EventRate != 48000 {
		t.Fatalf("own offer reads back as %+v, %v", m, err)
	}
	if m, err := ParseSDP([]byte(strings.Replace(offer, "RTP/AVP 111 0", "RTP/AVP 0 111", 1))); err != nil || m.PT != PTPCMU || m.EventPT != PTEvent || m.EventRate != 8000 {
		t.Fatalf("own offer with PCMU first reads back as %+v, %v", m, err)
	}
}

// While passing Opus through, a digit to the phone takes the place of the
// forwarded packets: the phone gets the event (durations in the event's
// clock, one timestamp) and no Opus until it ends; then Opus resumes with
// timestamps after the digit's time.
func TestDTMFBesideOpusPassthrough(t *testing.T) {
	for _, rate := range []uint32{48000, 8000} {
		phone, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
		if err != nil {
			t.Fatal(err)
		}
		node, err := Listen(loopback, nil)
		if err != nil {
			t.Fatal(err)
		}
		node.SetRemote(Media{Addr: phone.LocalAddr().(*net.UDPAddr).AddrPort(), PT: 96, Opus: true, EventPT: PTEvent48, EventRate: rate})
		node.SetPassthrough(true)
		if err := node.SendDTMF("5"); err != nil {
			t.Fatal(err)
		}
		// One 20 ms Opus packet (a CELT 20 ms TOC byte) per tick, as the
		// call forwards them, and the sink's tick beside it.
		frame := make([]int16, audio.FrameSamples)
		ticks := toneFrames + gapFrames + 4
		for i := range ticks {
			if err := node.WriteOpus([]byte{0xf8, 1, 2, 3}, uint32(i*audio.FrameSamples)); err != nil {
				t.Fatal(err)
			}
			if err := node.Sink().WriteFrame(frame); err != nil {
				t.Fatal(err)
			}
		}
		var events, opusBefore, opusAfter int
		var evTS uint32
		var lastDur uint16
		buf := make([]byte, 1500)
		phone.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			n, err := phone.Read(buf)
			if err != nil {
				break
			}
			var p rtp.Packet
			if err := p.Unmarshal(buf[:n]); err != nil {
				t.Fatal(err)
			}
			switch p.PayloadType {
			case PTEvent48:
				e, err := DecodeEvent(p.Payload)
				if err != nil || e.Code != 5 {
					t.Fatalf("event %+v, %v", e, err)
				}
				if events > 0 && p.Timestamp != evTS {
					t.Fatalf("event timestamp moved: %d then %d", evTS, p.Timestamp)
				}
				evTS, lastDur = p.Timestamp, e.Duration
				events++
			case 96:
				if events == 0 {
					opusBefore++
				} else {
					if int32(p.Timestamp-evTS) < toneFrames*audio.FrameSamples {
						t.Fatalf("Opus at %d inside the digit's time (from %d)", p.Timestamp, evTS)
					}
					opusAfter++
				}
			}
			if events+opusBefore+opusAfter >= toneFrames+endRepeats+1+3 && opusAfter >= 3 {
				break
			}
		}
		phone.Close()
		st := node.OpusStats()
		node.Close()
		frameAt := uint16(rate / 50)
		if events != toneFrames+endRepeats || lastDur != toneFrames*frameAt {
			t.Fatalf("rate %d: %d event packets, last duration %d; want %d, %d", rate, events, lastDur, toneFrames+endRepeats, toneFrames*frameAt)
		}
		if opusAfter < 3 || st.UnderDigits < toneFrames {
			t.Fatalf("rate %d: Opus %d before, %d after the digit; %d left out under it", rate, opusBefore, opusAfter, st.UnderDigits)
		}
	}
}
