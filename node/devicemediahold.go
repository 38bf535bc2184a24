package node

import (
	"net/netip"

	"parley/media/call"
	"parley/media/rtpbridge"
)

// Hold and re-INVITEs (issue 19): a phone in a call re-offers its stream to
// put the call on hold (a=sendonly, a=inactive, or c=0.0.0.0), to resume
// it (a=sendrecv), or to move its RTP to another address or port. The
// device's node follows (media/rtpbridge: nothing is sent to a phone on
// hold) and, when the phone held or resumed, tells the call's other
// participants (call.KindHold); their nodes report it as call_state "held",
// then "active" with reason "resumed".

// Call states and reason of a hold (CallState).
const (
	callStateHeld = "held"
	reasonResumed = "resumed"
)

// SIPReinvite answers the phone's re-offer in its call (offer empty: a
// re-INVITE without SDP, answered with the session as it is). It says
// whether the phone holds the call now.
func (n *Node) SIPReinvite(phone netip.Addr, offer []byte) (answer string, held bool, err error) {
	n.media.mu.Lock()
	b := n.media.rtp
	n.media.mu.Unlock()
	if b == nil {
		return "", false, ErrMediaStopped
	}
	prev := b.Remote()
	if len(offer) == 0 {
		return answerSDP(b, prev), prev.Dir.Held(), nil
	}
	m, err := rtpbridge.ParseSDP(offer)
	if err != nil {
		n.stats.Add("sip_sdp_refused", 1)
		return "", false, err
	}
	m = m.KeepAddr(prev)
	if m.Unspecified() {
		n.stats.Add("sip_sdp_refused", 1)
		return "", false, ErrNotOnLAN // 0.0.0.0 and no stream before it
	}
	if !n.OnLAN(m.Addr.Addr()) && m.Addr.Addr() != phone.Unmap() {
		n.stats.Add("sip_sdp_refused", 1)
		return "", false, ErrNotOnLAN
	}
	m.Also = phone.Unmap()
	b.SetRemote(m)
	if m.Addr != prev.Addr {
		n.stats.Add("sip_rtp_moved", 1)
	}
	if held := m.Dir.Held(); held != prev.Dir.Held() {
		n.stats.Add("sip_hold_changes", 1)
		for _, c := range n.calls.Active() {
			if c.State == call.StateActive {
				n.calls.SendHold(c.Call, held)
			}
		}
	}
	return answerSDP(b, m), m.Dir.Held(), nil
}

// onHeld reports a participant's hold (call.Held) as a call_state.
func (n *Node) onHeld(e call.Held) {
	st := CallState{Call: e.Call.String(), Peer: e.From.String(), State: callStateHeld}
	if !e.On {
		st.State, st.Reason = string(call.StateActive), reasonResumed
	}
	n.emit(st)
}
