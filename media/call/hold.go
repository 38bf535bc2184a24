package call

import "parley/identity"

// Hold in a call (issue 19): a participant that put the call on hold, or
// took it off hold, says so to the others with a KindHold message (tag 12:
// one byte, HoldOn or HoldOff). A SIP phone's node sends it when the phone
// re-INVITEs with a=sendonly or a=inactive, and again when it resumes. The
// receivers report it (Held); the call itself goes on, its legs untouched:
// a held participant simply sends music or silence.

// Hold values of a KindHold message's tag 12.
const (
	HoldOn  uint8 = 1
	HoldOff uint8 = 2
)

// maxHoldsPerSec bounds hold changes reported from one call a second; a
// phone's user presses hold a few times a minute.
const maxHoldsPerSec = 4

// Held reports that a participant put the call on hold (On) or resumed it.
type Held struct {
	Call ID
	From identity.PeerID
	On   bool
}

func (Held) callEvent() {}

// SendHold tells everyone else still in call id that this participant put
// the call on hold (on) or resumed it.
func (m *Manager) SendHold(id ID, on bool) error {
	v := HoldOff
	if on {
		v = HoldOn
	}
	return m.sendToOthers(id, &Message{Kind: KindHold, Call: id, Hold: v})
}

// onHold reports a participant's hold change, at most maxHoldsPerSec a
// second per call (the excess counted: HoldsDropped).
func (m *Manager) onHold(c *call, from identity.PeerID, msg *Message) {
	if msg.Hold != HoldOn && msg.Hold != HoldOff {
		return
	}
	c.mu.Lock()
	over := !c.holdRate.allow(m.cfg.Now(), 1, maxHoldsPerSec)
	c.mu.Unlock()
	if over {
		m.holdsDropped.Add(1)
		return
	}
	m.cfg.Emit(Held{Call: c.id, From: from, On: msg.Hold == HoldOn})
}

// HoldsDropped counts hold changes refused by the rate bound.
func (m *Manager) HoldsDropped() uint64 { return m.holdsDropped.Load() }
