package rtpbridge

import (
	"encoding/binary"
	"errors"
	"strings"

	"parley/media/audio"
)

// DTMF as RFC 4733 telephone-events (issue 19). Each RTP packet of payload
// type "telephone-event/8000" (dynamic, PTEvent when this end offers), or
// "telephone-event/48000" beside Opus (PTEvent48), carries one 4-byte event
// (docs/sip.md has the bytes):
//
//	byte 0     event: 0–9 the digits, 10 '*', 11 '#', 12–15 'A'–'D'
//	byte 1     bit 7 E (end of event), bit 6 R (reserved, 0), bits 5–0 volume (−dBm0)
//	bytes 2–3  duration in timestamp units of the event's clock, big endian, since the event began
//
// All packets of one event share the RTP timestamp of its beginning; the
// first has the marker bit; the end packet is sent three times.

// PTEvent is the payload type this end offers for telephone-event: 101 is
// what most phones (and baresip) use, so an answer rarely renumbers it.
const PTEvent = 101

// PTEvent48 is the payload type this end offers for telephone-event/48000,
// the clock RFC 4733 §2.1 asks for beside Opus: the next free dynamic number.
const PTEvent48 = 102

const (
	// eventLen is one event block. Redundant blocks (RFC 2198) come with a
	// different payload type and are not negotiated.
	eventLen = 4
	// toneFrames is how long a sent digit sounds: 5 × 20 ms = 100 ms, above
	// the 40 ms a receiver needs (ITU-T Q.24) and short enough for 5 digits
	// a second; gapFrames (60 ms) of voice follow before the next digit.
	toneFrames = 5
	gapFrames  = 3
	// endRepeats: the end packet is sent three times (RFC 4733 §2.5.1.4).
	endRepeats = 3
	// eventVolume is the level sent: −10 dBm0, a usual DTMF level.
	eventVolume = 10
	// MaxDTMFQueue bounds digits waiting to be sent; at 160 ms a digit the
	// queue drains in about 5 s. SendDTMF refuses beyond it.
	MaxDTMFQueue = 32
	// maxDigitsPerSec bounds digits reported from the phone a second; a
	// person keys under 10.
	maxDigitsPerSec = 20
)

// ErrDTMF refuses a digit string: empty, not of 0–9 * # A–D, or more than
// the queue holds.
var ErrDTMF = errors.New("rtpbridge: dtmf digits must be 1–32 of 0-9 * # A-D with room in the queue")

// ErrNoEvents: the phone's SDP did not agree to telephone-event.
var ErrNoEvents = errors.New("rtpbridge: the phone did not negotiate telephone-event")

const digits = "0123456789*#ABCD"

// DigitOf is the digit of event e (0–15), 0 when out of range.
func DigitOf(e uint8) byte {
	if int(e) >= len(digits) {
		return 0
	}
	return digits[e]
}

// EventOf is the event code of digit d (lower-case a–d accepted), -1 if none.
func EventOf(d byte) int {
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	return strings.IndexByte(digits, d)
}

// ValidDigits reports whether s is 1–MaxDTMFQueue DTMF digits.
func ValidDigits(s string) bool {
	if len(s) == 0 || len(s) > MaxDTMFQueue {
		return false
	}
	for i := 0; i < len(s); i++ {
		if EventOf(s[i]) < 0 {
			return false
		}
	}
	return true
}

// Event is one decoded telephone-event block.
type Event struct {
	Code     uint8
	End      bool
	Volume   uint8
	Duration uint16
}

// ErrEvent is a telephone-event payload refused by DecodeEvent.
var ErrEvent = errors.New("rtpbridge: not a DTMF telephone-event")

// DecodeEvent checks and reads one telephone-event payload: exactly 4 bytes,
// an event 0–15 (DTMF; the other RFC 4733 events are not passed on), an end
// packet with a nonzero duration.
func DecodeEvent(p []byte) (Event, error) {
	if len(p) != eventLen {
		return Event{}, ErrEvent
	}
	e := Event{Code: p[0], End: p[1]&0x80 != 0, Volume: p[1] & 0x3f, Duration: binary.BigEndian.Uint16(p[2:])}
	if e.Code > 15 || (e.End && e.Duration == 0) {
		return Event{}, ErrEvent
	}
	return e, nil
}

// AppendEvent writes e as a telephone-event payload.
func AppendEvent(b []byte, e Event) []byte {
	flags := e.Volume & 0x3f
	if e.End {
		flags |= 0x80
	}
	return binary.BigEndian.AppendUint16(append(b, e.Code, flags), e.Duration)
}

// OnDTMF sets what a digit from the phone calls: once per event, on its
// first end packet (the repeats and an end after it are collapsed by the
// event's timestamp). It runs on the read loop: it must not block.
func (b *Bridge) OnDTMF(f func(digit byte)) {
	b.mu.Lock()
	b.onDTMF = f
	b.mu.Unlock()
}

// SendDTMF queues digits to send to the phone; the call's sink sends them
// in place of voice, one 20 ms packet per frame (sendEventLocked).
func (b *Bridge) SendDTMF(s string) error {
	if !ValidDigits(s) {
		return ErrDTMF
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.remote.EventPT == 0 {
		return ErrNoEvents // they would wait in the queue for ever
	}
	if len(b.dtmfOut)+len(s) > MaxDTMFQueue {
		return ErrDTMF
	}
	for i := 0; i < len(s); i++ {
		b.dtmfOut = append(b.dtmfOut, uint8(EventOf(s[i])))
	}
	return nil
}

// receiveEvent handles a telephone-event packet (mu not held).
func (b *Bridge) receiveEvent(ts uint32, payload []byte, now int64) {
	e, err := DecodeEvent(payload)
	if err != nil {
		b.dropEvent.Add(1)
		return
	}
	if !e.End {
		return // the end packet reports it; start and updates say only "still down"
	}
	b.mu.Lock()
	if b.evSeen && b.evTS == ts {
		b.mu.Unlock()
		b.dupEvents.Add(1)
		return
	}
	b.evSeen, b.evTS = true, ts
	if now != b.evSec {
		b.evSec, b.evCount = now, 0
	}
	b.evCount++
	f := b.onDTMF
	b.mu.Unlock()
	if b.evCount > maxDigitsPerSec {
		b.dropRate.Add(1)
		return
	}
	b.eventsIn.Add(1)
	if f != nil {
		f(DigitOf(e.Code))
	}
}

// sendEventLocked builds the packets of the frame-time step of the digit at
// the head of dtmfOut, or returns nil when it is a gap frame (voice goes).
// Steps 0..toneFrames-1 carry the growing duration (the first with the
// marker bit), step toneFrames the end packet three times, then gapFrames of
// voice. The timestamp is the event's start for all of them.
func (b *Bridge) sendEventLocked(pt uint8, rate uint32) [][]byte {
	frame := samples8k // a frame's time in the event's clock
	if rate == 48000 {
		frame = audio.FrameSamples
	}
	step := b.evStep
	b.evStep++
	if step == 0 {
		b.evStartTS = b.ts
	}
	code := b.dtmfOut[0]
	switch {
	case step < toneFrames:
		return [][]byte{b.eventPacketLocked(pt, step == 0, Event{Code: code, Volume: eventVolume, Duration: uint16((step + 1) * frame)})}
	case step == toneFrames:
		end := Event{Code: code, End: true, Volume: eventVolume, Duration: uint16(toneFrames * frame)}
		out := make([][]byte, endRepeats)
		for i := range out {
			out[i] = b.eventPacketLocked(pt, false, end)
		}
		return out
	default:
		if step >= toneFrames+gapFrames {
			b.dtmfOut = b.dtmfOut[1:]
			b.evStep = 0
		}
		return nil
	}
}

func (b *Bridge) eventPacketLocked(pt uint8, marker bool, e Event) []byte {
	out := make([]byte, 12, 12+eventLen)
	out[0] = 0x80
	out[1] = pt & 0x7f
	if marker {
		out[1] |= 0x80
	}
	binary.BigEndian.PutUint16(out[2:], b.seq)
	binary.BigEndian.PutUint32(out[4:], b.evStartTS)
	binary.BigEndian.PutUint32(out[8:], b.ssrc)
	b.seq++
	return AppendEvent(out, e)
}
