package rtpbridge

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// SDP (RFC 4566) offers and answers, audio only, RTP/AVP with G.711.

// MaxSDP bounds an SDP body: a phone's offer with a dozen codecs is under
// 1 KiB.
const MaxSDP = 8 << 10

// Payload types (RFC 3551, static).
const (
	PTPCMU = 0
	PTPCMA = 8
)

var (
	ErrSDPTooLong = errors.New("sdp: longer than 8 KiB")
	ErrNoAudio    = errors.New("sdp: no audio stream with PCMU or PCMA")
)

// Media is the far end of a negotiated audio stream.
type Media struct {
	Addr netip.AddrPort // where to send RTP
	PT   uint8          // PTPCMU or PTPCMA
	// Also is a second address RTP is accepted from: the phone's signalling
	// address. A phone with several addresses may name one in its SDP and
	// send from another (baresip names its first interface's and sends
	// from the one the route picks).
	Also netip.Addr
	// EventPT is the payload type of telephone-event (RFC 4733) the SDP
	// named, 0 when none (0 is PCMU, never an event type); EventRate is its
	// clock, 8000 or 48000 (0 is read as 8000).
	EventPT   uint8
	EventRate uint32
	// Dir is the stream's direction from the phone's side (hold.go).
	Dir Direction
	// Opus: PT is the stream's opus/48000/2 (dynamic, opus.go) instead of
	// G.711.
	Opus bool
}

// ParseSDP reads the first audio stream of an SDP body that offers PCMU or
// PCMA over RTP/AVP, preferring the order the body gives (the offerer's
// preference, RFC 3264 §6.1).
func ParseSDP(body []byte) (Media, error) {
	if len(body) > MaxSDP {
		return Media{}, ErrSDPTooLong
	}
	var s sdp.SessionDescription
	if err := s.Unmarshal(body); err != nil {
		return Media{}, fmt.Errorf("sdp: %w", err)
	}
	for _, m := range s.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value <= 0 || m.MediaName.Port.Value > 65535 {
			continue
		}
		if !slices.Contains(m.MediaName.Protos, "AVP") {
			continue
		}
		conn := m.ConnectionInformation
		if conn == nil {
			conn = s.ConnectionInformation
		}
		if conn == nil || conn.Address == nil {
			continue
		}
		host, _, _ := strings.Cut(conn.Address.Address, "/") // a multicast TTL
		ip, err := netip.ParseAddr(host)
		if err != nil {
			continue // a hostname
		}
		dir := direction(m.Attributes, direction(s.Attributes, SendRecv))
		if ip.IsUnspecified() { // RFC 2543 hold: send nothing to this stream
			dir = dir.withoutReceive()
		}
		opusPT := rtpmapPT(m, "opus/48000/2")
		for _, f := range m.MediaName.Formats {
			pt, err := strconv.Atoi(f)
			addr := netip.AddrPortFrom(ip.Unmap(), uint16(m.MediaName.Port.Value))
			if err == nil && opusPT != 0 && pt == int(opusPT) {
				// DTMF beside Opus: telephone-event at Opus's clock when
				// offered (RFC 4733 §2.1), else at 8 kHz, which is all
				// many phones offer (baresip 1.0 does with Opus first);
				// events are told apart by payload type, not by clock.
				ev, rate := rtpmapPT(m, "telephone-event/48000"), uint32(48000)
				if ev == 0 {
					ev, rate = eventPT(m), 8000
				}
				if ev == 0 {
					rate = 0
				}
				return Media{Addr: addr, PT: opusPT, EventPT: ev, EventRate: rate, Dir: dir, Opus: true}, nil
			}
			if err != nil || (pt != PTPCMU && pt != PTPCMA) {
				continue
			}
			ev := eventPT(m)
			rate := uint32(8000)
			if ev == 0 {
				rate = 0
			}
			return Media{Addr: addr, PT: uint8(pt), EventPT: ev, EventRate: rate, Dir: dir}, nil
		}
	}
	return Media{}, ErrNoAudio
}

// eventPT finds "a=rtpmap:N telephone-event/8000" for a dynamic N among
// the stream's formats.
func eventPT(m *sdp.MediaDescription) uint8 { return rtpmapPT(m, "telephone-event/8000") }

// rtpmapPT finds "a=rtpmap:N enc" for a dynamic N among the stream's formats.
func rtpmapPT(m *sdp.MediaDescription, want string) uint8 {
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		num, enc, ok := strings.Cut(a.Value, " ")
		if !ok || !strings.EqualFold(strings.TrimSpace(enc), want) {
			continue
		}
		pt, err := strconv.Atoi(num)
		if err != nil || pt < 96 || pt > 127 || !slices.Contains(m.MediaName.Formats, num) {
			continue
		}
		return uint8(pt)
	}
	return 0
}

// BuildSDP is this end's SDP: audio at local, offering pts in that order;
// PTOpus is opus/48000/2, PTEvent48 telephone-event/48000 and another
// dynamic pt (96–127) telephone-event/8000, with events 0–15 (DTMF).
func BuildSDP(local netip.AddrPort, session uint64, pts ...uint8) string {
	return buildSDP(local, session, session, SendRecv, PTOpus, PTEvent48, pts)
}

// buildSDP writes the SDP; among pts, opusPT is opus/48000/2 (opus.go),
// ev48PT telephone-event/48000 and any other dynamic one
// telephone-event/8000.
func buildSDP(local netip.AddrPort, session, version uint64, dir Direction, opusPT, ev48PT uint8, pts []uint8) string {
	family := "IP4"
	if local.Addr().Is6() {
		family = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=parley %d %d IN %s %s\r\ns=parley\r\nc=IN %s %s\r\nt=0 0\r\n",
		session, version, family, local.Addr(), family, local.Addr())
	fmt.Fprintf(&b, "m=audio %d RTP/AVP", local.Port())
	for _, pt := range pts {
		fmt.Fprintf(&b, " %d", pt)
	}
	b.WriteString("\r\n")
	for _, pt := range pts {
		switch pt {
		case PTPCMU:
			b.WriteString("a=rtpmap:0 PCMU/8000\r\n")
		case PTPCMA:
			b.WriteString("a=rtpmap:8 PCMA/8000\r\n")
		case opusPT:
			// Mono both ways (what the call carries), in-band FEC welcome.
			fmt.Fprintf(&b, "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d stereo=0;sprop-stereo=0;useinbandfec=1\r\n", pt, pt)
		default:
			rate := 8000
			if pt == ev48PT {
				rate = 48000
			}
			if pt >= 96 && pt <= 127 {
				fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/%d\r\na=fmtp:%d 0-15\r\n", pt, rate, pt)
			}
		}
	}
	b.WriteString("a=ptime:20\r\na=" + dir.String() + "\r\n")
	return b.String()
}
