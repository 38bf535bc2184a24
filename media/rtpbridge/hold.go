package rtpbridge

import "github.com/pion/sdp/v3"

// Hold and re-INVITEs (RFC 3264 §8.4): a phone puts a call on hold by
// offering its stream a=sendonly (it plays music, or nothing) or a=inactive,
// and resumes with a=sendrecv. The bridge sends nothing to a phone whose
// direction says it does not receive (Media.Dir), keeping its RTP timestamp
// running so the stream resumes in time; what the phone sends is taken as
// ever. A re-offer with another address or port moves the stream
// (SetRemote).

// Direction is a stream's a=sendrecv, a=sendonly, a=recvonly or a=inactive.
type Direction uint8

const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

var directionNames = [...]string{SendRecv: "sendrecv", SendOnly: "sendonly", RecvOnly: "recvonly", Inactive: "inactive"}

func (d Direction) String() string {
	if int(d) < len(directionNames) {
		return directionNames[d]
	}
	return "sendrecv"
}

// Answer is the direction an answerer takes toward an offer of d.
func (d Direction) Answer() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// Receives says whether the side with direction d takes media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Held says whether d puts the other side on hold (the side with d takes no
// media): what a phone's a=sendonly and a=inactive mean.
func (d Direction) Held() bool { return !d.Receives() }

// withoutReceive is d once its side takes no media (c=0.0.0.0).
func (d Direction) withoutReceive() Direction {
	switch d {
	case SendRecv, SendOnly:
		return SendOnly
	}
	return Inactive
}

// direction is the last direction attribute among attrs, else def.
func direction(attrs []sdp.Attribute, def Direction) Direction {
	for _, a := range attrs {
		for d, name := range directionNames {
			if a.Key == name {
				def = Direction(d)
			}
		}
	}
	return def
}

// Remote is the far end as last negotiated (SetRemote).
func (b *Bridge) Remote() Media {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remote
}

// SDP is this end's SDP for the session: local address, pts in that order,
// our direction dir. The origin's session ID is the bridge's own and its
// version goes up by one each time (RFC 3264 §8: a re-answer is a new
// version of the same session).
func (b *Bridge) SDP(dir Direction, pts ...uint8) string {
	b.mu.Lock()
	b.sdpVersion++
	v := b.sdpVersion
	opusPT, ev48PT := uint8(PTOpus), uint8(PTEvent48)
	if b.remote.Opus { // answering: the phone's number for it
		opusPT = b.remote.PT
	}
	switch r := b.remote; {
	case r.EventPT != 0 && r.EventRate == 48000: // answering: the phone's number
		ev48PT = r.EventPT
	case r.EventPT == ev48PT: // the phone's telephone-event/8000 took our number
		ev48PT = 0
	}
	b.mu.Unlock()
	return buildSDP(b.LocalAddr(), b.sdpSession, v, dir, opusPT, ev48PT, pts)
}

// KeepAddr is m with the address of prev when m names none (c=0.0.0.0):
// where RTP goes once the phone resumes without naming it again.
func (m Media) KeepAddr(prev Media) Media {
	if m.Unspecified() && prev.Addr.IsValid() {
		m.Addr = prev.Addr
	}
	return m
}

// Unspecified says whether m names no address (c=0.0.0.0, RFC 2543 hold).
func (m Media) Unspecified() bool { return m.Addr.Addr().IsUnspecified() }
