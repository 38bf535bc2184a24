package call

import (
	"errors"
	"strings"

	"parley/identity"
)

// DTMF in a call (issue 19): keypad digits a SIP phone sends as RFC 4733
// events, or a Parley user sends toward one, travel as a KindDTMF signalling
// message (tag 11: the digits as ASCII) to the call's other participants,
// beside the audio rather than in it: the Opus path would smear a tone.

// MaxDigits bounds one message's digits (a phone number and a PIN).
const MaxDigits = 32

// maxDigitsPerSec bounds digits accepted from one participant a second,
// summed over its messages; a person keys under 10.
const maxDigitsPerSec = 40

// ErrDigits refuses digits that are not 1–32 of 0-9 * # A-D.
var ErrDigits = errors.New("call: dtmf digits must be 1-32 of 0-9 * # A-D")

// ValidDigits reports whether s is 1–MaxDigits DTMF digits (upper case).
func ValidDigits(s string) bool {
	if len(s) == 0 || len(s) > MaxDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789*#ABCD", rune(s[i])) {
			return false
		}
	}
	return true
}

// DTMF reports digits a participant sent in a call.
type DTMF struct {
	Call   ID
	From   identity.PeerID
	Digits string
}

func (DTMF) callEvent() {}

// SendDTMF sends digits to everyone else still in call id.
func (m *Manager) SendDTMF(id ID, digits string) error {
	if !ValidDigits(digits) {
		return ErrDigits
	}
	return m.sendToOthers(id, &Message{Kind: KindDTMF, Call: id, Digits: digits})
}

// onDTMF reports a participant's digits, at most maxDigitsPerSec a second
// per call (the excess counted: DTMFDropped).
func (m *Manager) onDTMF(c *call, from identity.PeerID, msg *Message) {
	if msg.Digits == "" {
		return
	}
	c.mu.Lock()
	over := !c.dtmfRate.allow(m.cfg.Now(), len(msg.Digits), maxDigitsPerSec)
	c.mu.Unlock()
	if over {
		m.dtmfDropped.Add(uint64(len(msg.Digits)))
		return
	}
	m.cfg.Emit(DTMF{Call: c.id, From: from, Digits: msg.Digits})
}

// DTMFDropped counts digits refused by the rate bound.
func (m *Manager) DTMFDropped() uint64 { return m.dtmfDropped.Load() }
