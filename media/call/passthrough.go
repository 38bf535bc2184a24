package call

// Opus passthrough (issue 19): when this node's audio device already speaks
// Opus — a SIP phone that negotiated it (media/rtpbridge) — a 1:1 call (or a
// mesh leg set of one) that this node does not mix forwards the device's
// packets to the peer and the peer's packets to the device as they are,
// instead of decoding the device's PCM, re-encoding it, and decoding and
// re-encoding the other way. Both ends already run Parley's codec at 48 kHz;
// forwarding saves a decode and an encode per 20 ms each way and keeps the
// phone's own FEC. What is given up on that leg: the jitter buffer, loss
// concealment and level figures (the phone's own jitter buffer conceals),
// the sounds mixed into the call's output, and FEC retuning by our encoder.
// A group call this node mixes, or a second leg, switches back to decoding
// (the mix needs PCM) on the next frame.

// Passthrough is a device that can carry Opus packets itself.
type Passthrough interface {
	// Forwardable says whether the device's packets can go on the call's
	// track as they are now: Opus, one 20 ms frame each.
	Forwardable() bool
	// SetPassthrough tells the device which way the call uses it: packets
	// (on) or PCM frames through the call's Source and Sink (off).
	SetPassthrough(on bool)
	// ReadOpus moves the device's oldest queued 20 ms packet into dst.
	ReadOpus(dst []byte) (n int, ok bool)
	// WriteOpus sends a packet from the peer; ts is its RTP timestamp.
	WriteOpus(payload []byte, ts uint32) error
}

// passBox holds the device while the call forwards (atomic.Pointer needs a
// concrete type).
type passBox struct{ p Passthrough }

// passthrough decides, once per frame, whether the call forwards Opus and
// tells the device when that changes. legs is this frame's legs.
func (a *callAudio) passthrough(legs []*legMedia) Passthrough {
	var p Passthrough
	if get := a.c.m.cfg.Passthrough; get != nil && !a.mixing.Load() && len(legs) == 1 {
		if d := get(); d != nil && d.Forwardable() {
			p = d
		}
	}
	cur := a.fwd.Load()
	switch {
	case cur == nil && p == nil:
		return nil
	case cur != nil && cur.p == p:
		return p
	}
	if cur != nil {
		cur.p.SetPassthrough(false)
	}
	if p == nil {
		a.fwd.Store(nil)
		return nil
	}
	p.SetPassthrough(true)
	a.fwd.Store(&passBox{p})
	a.c.m.count("call_opus_passthrough")
	return p
}

// forwarding is the device the leg's packets go to as they are, or nil.
func (a *callAudio) forwarding() Passthrough {
	if b := a.fwd.Load(); b != nil {
		return b.p
	}
	return nil
}

// passFrame is one frame of the loop while forwarding: the device's packet,
// if one is queued, goes on the shared track; nothing is decoded or encoded.
func (a *callAudio) passFrame(p Passthrough, pkt []byte) error {
	var payload []byte
	if n, ok := p.ReadOpus(pkt); ok && !a.muted.Load() {
		payload = pkt[:n]
	}
	// No packet: the packetizer's timestamp still moves on one frame, as
	// after a DTX frame.
	sent, err := a.pk.Write(a.track, payload)
	if sent {
		a.sent.Add(1)
		a.passed.Add(1)
	}
	return err
}
