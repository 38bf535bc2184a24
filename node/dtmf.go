package node

import (
	"errors"
	"strings"
	"sync"
	"time"

	"parley/media/call"
)

// DTMF in calls (issue 19): a SIP phone's keypad digits (RFC 4733
// telephone-events, decoded by media/rtpbridge) reach the call's other
// participants as a call signalling message (media/call/dtmf.go) and
// surface there as a "dtmf" event; a user's {"cmd":"dtmf"} travels the same
// way, and the phone's node plays it to the phone as RFC 4733 events.

// DTMF: a participant of call pressed a key. Digit is one of 0-9 * # A-D.
type DTMF struct {
	Call  string `json:"call"`
	From  string `json:"from"`
	Digit string `json:"digit"`
}

func (DTMF) EventName() string { return "dtmf" }

// dtmfPerSec bounds digits this node sends a second, over all calls and
// callers (commands and its phone): a person keys under 10, a dialler
// sending a number and a PIN at once 32.
const dtmfPerSec = 64

// ErrDTMFRate refuses digits past dtmfPerSec.
var ErrDTMFRate = errors.New("dtmf: more than 64 digits a second")

// dtmfRate counts digits sent in the current second.
type dtmfRate struct {
	mu    sync.Mutex
	sec   int64
	count int
}

func (r *dtmfRate) take(n int) bool {
	now := time.Now().Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	if now != r.sec {
		r.sec, r.count = now, 0
	}
	if r.count+n > dtmfPerSec {
		return false
	}
	r.count += n
	return true
}

// SendDTMF sends keypad digits (1–32 of 0-9 * # A-D) to the other
// participants of call id: a phone among them hears them as RFC 4733 events.
func (n *Node) SendDTMF(id, digits string) error {
	c, err := n.callID(id)
	if err != nil {
		return err
	}
	digits = strings.ToUpper(digits)
	if !call.ValidDigits(digits) {
		return call.ErrDigits
	}
	if !n.dtmf.take(len(digits)) {
		n.stats.Add("dtmf_dropped", uint64(len(digits)))
		return ErrDTMFRate
	}
	return n.calls.SendDTMF(c, digits)
}

// onDTMF reports a participant's digits, and plays them to this node's
// phone when it is a SIP device's node with a session.
func (n *Node) onDTMF(e call.DTMF) {
	n.media.mu.Lock()
	b := n.media.rtp
	n.media.mu.Unlock()
	if b != nil {
		if err := b.SendDTMF(e.Digits); err != nil {
			n.stats.Add("dtmf_dropped", uint64(len(e.Digits)))
		}
	}
	for i := range len(e.Digits) {
		n.emit(DTMF{Call: e.Call.String(), From: e.From.String(), Digit: e.Digits[i : i+1]})
	}
}

// phoneDigit passes a digit from this node's phone to its calls. It runs on
// the RTP read loop, which rtpbridge bounds to 20 digits a second.
func (n *Node) phoneDigit(d byte) {
	if d == 0 || !n.dtmf.take(1) {
		n.stats.Add("dtmf_dropped", 1)
		return
	}
	for _, c := range n.calls.Active() {
		if c.State != call.StateActive {
			continue
		}
		if err := n.calls.SendDTMF(c.Call, string(d)); err != nil {
			n.log.Debug("dtmf not sent", "call", c.Call, "err", err)
		}
	}
}
