package node

import (
	"errors"
	"net"
	"net/netip"

	"parley/media/call"
	"parley/media/rtpbridge"
)

// A SIP phone's call audio (issue 19): the registrar (sip/) negotiates SDP
// through these methods of the device's node, and the RTP session
// (media/rtpbridge, G.711 transcoded to 48 kHz) becomes that node's call
// audio, as a browser's WebRTC bridge does for a guest (guestmedia.go). One
// session at a time: a phone has one handset.

// ErrNotOnLAN refuses a phone or media address off this node's subnets.
var ErrNotOnLAN = errors.New("sip: address not on this node's LAN")

// OnLAN says whether a is loopback or on the subnet of an interface in use:
// the only places a phone, its contact or its media may be.
func (n *Node) OnLAN(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || n.disc.OnLink(a)
}

// SIPOffer opens an RTP session toward the phone at phone and returns this
// end's SDP offer (Opus, PCMU, PCMA, DTMF); SIPAccept completes it with the
// phone's answer.
func (n *Node) SIPOffer(phone netip.Addr) (string, error) {
	b, err := n.openRTP(phone)
	if err != nil {
		return "", err
	}
	return b.SDP(rtpbridge.SendRecv, rtpbridge.PTOpus, rtpbridge.PTPCMU, rtpbridge.PTPCMA, rtpbridge.PTEvent48, rtpbridge.PTEvent), nil
}

// SIPAccept takes the phone's SDP answer to SIPOffer.
func (n *Node) SIPAccept(phone netip.Addr, answer []byte) error {
	m, err := n.sipMedia(phone, answer)
	if err != nil {
		return err
	}
	n.media.mu.Lock()
	b := n.media.rtp
	n.media.mu.Unlock()
	if b == nil {
		return ErrMediaStopped
	}
	b.SetRemote(m)
	return nil
}

// SIPAnswer answers the phone's SDP offer: the session is live at once.
func (n *Node) SIPAnswer(phone netip.Addr, offer []byte) (string, error) {
	m, err := n.sipMedia(phone, offer)
	if err != nil {
		return "", err
	}
	b, err := n.openRTP(phone)
	if err != nil {
		return "", err
	}
	b.SetRemote(m)
	return answerSDP(b, m), nil
}

// answerSDP answers m: its codec, its DTMF number (dtmf.go), the direction
// that matches its own.
func answerSDP(b *rtpbridge.Bridge, m rtpbridge.Media) string {
	if m.EventPT != 0 {
		return b.SDP(m.Dir.Answer(), m.PT, m.EventPT)
	}
	return b.SDP(m.Dir.Answer(), m.PT)
}

// SIPMedia is what a phone's RTP session carried (SIPMediaEnd): packets
// from the phone, and its Opus packets forwarded as they were or
// transcoded (media/rtpbridge/opus.go).
type SIPMedia struct {
	RTPIn                                                 uint64
	OpusPassedIn, OpusPassedOut, OpusDecoded, OpusEncoded uint64
}

// SIPMediaEnd closes the phone's RTP session (the call ended) and says what
// it carried (zero without a session).
func (n *Node) SIPMediaEnd() SIPMedia {
	n.media.mu.Lock()
	b := n.media.rtp
	n.media.rtp = nil
	n.media.mu.Unlock()
	if b == nil {
		return SIPMedia{}
	}
	st, ops := b.Stats(), b.OpusStats()
	n.log.Debug("sip media ended", "in", st.PacketsIn, "out", st.PacketsOut, "drop_source", st.DropSource,
		"drop_pt", st.DropPT, "drop_queue", st.DropQueue, "silent", st.SilentReads,
		"opus_passed_in", ops.PassedIn, "opus_passed_out", ops.PassedOut, "opus_decoded", ops.Decoded, "opus_encoded", ops.Encoded)
	n.stats.Add("sip_rtp_in", st.PacketsIn)
	n.stats.Add("sip_rtp_dropped", st.DropSource+st.DropMalformed+st.DropPT+st.DropSize+st.DropRate+st.DropQueue+st.DropEvent+ops.NotTwenty+ops.Failed)
	n.stats.Add("sip_dtmf_in", st.EventsIn)
	n.stats.Add("sip_rtp_held", st.HeldFrames)
	b.Close()
	return SIPMedia{RTPIn: st.PacketsIn, OpusPassedIn: ops.PassedIn, OpusPassedOut: ops.PassedOut, OpusDecoded: ops.Decoded, OpusEncoded: ops.Encoded}
}

// CountSIPMedia adds a phone's call media to this (the registrar's) node's
// counters: the device node's own are not in the host's `counters`.
// sip_opus_passed_in/out against sip_opus_decoded/encoded shows whether
// the host forwarded the phone's Opus or transcoded it.
func (n *Node) CountSIPMedia(m SIPMedia) {
	n.stats.Add("sip_rtp_in", m.RTPIn)
	n.stats.Add("sip_opus_passed_in", m.OpusPassedIn)
	n.stats.Add("sip_opus_passed_out", m.OpusPassedOut)
	n.stats.Add("sip_opus_decoded", m.OpusDecoded)
	n.stats.Add("sip_opus_encoded", m.OpusEncoded)
}

// sipMedia parses and checks a phone's SDP: its media must be on the LAN.
func (n *Node) sipMedia(phone netip.Addr, body []byte) (rtpbridge.Media, error) {
	m, err := rtpbridge.ParseSDP(body)
	if err != nil {
		n.stats.Add("sip_sdp_refused", 1)
		return m, err
	}
	if !n.OnLAN(m.Addr.Addr()) && m.Addr.Addr() != phone.Unmap() {
		n.stats.Add("sip_sdp_refused", 1)
		return m, ErrNotOnLAN
	}
	m.Also = phone.Unmap()
	return m, nil
}

// openRTP replaces the node's RTP session with a new one on the address this
// host uses toward the phone.
func (n *Node) openRTP(phone netip.Addr) (*rtpbridge.Bridge, error) {
	local, err := localAddrToward(phone)
	if err != nil {
		return nil, err
	}
	b, err := rtpbridge.Listen(local, n.log)
	if err != nil {
		return nil, err
	}
	b.OnDTMF(n.phoneDigit)
	n.media.mu.Lock()
	if n.media.closed {
		n.media.mu.Unlock()
		b.Close()
		return nil, ErrMediaStopped
	}
	old := n.media.rtp
	n.media.rtp = b
	n.media.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return b, nil
}

// localAddrToward is the source address the kernel picks for packets to a
// (a connected UDP socket sends nothing).
func localAddrToward(a netip.Addr) (netip.Addr, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a.Unmap(), 9)))
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// opusPassthrough is the call manager's Passthrough: the phone's RTP session
// when there is one (media/call/passthrough.go forwards only when it
// negotiated Opus). A phone has one handset, so its node has one call with
// audio at a time.
func (n *Node) opusPassthrough() call.Passthrough {
	n.media.mu.Lock()
	defer n.media.mu.Unlock()
	if n.media.rtp == nil {
		return nil
	}
	return n.media.rtp
}
