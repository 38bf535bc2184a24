package selection

import (
	"fmt"
	"strings"
)

// Purpose is what a candidate is chosen for; it selects the default weights.
type Purpose int

const (
	// ChatForward: a peer forwarding chat frames between two others (path latency
	// and stability; bandwidth and power barely matter).
	ChatForward Purpose = iota
	// VoiceRelay: a peer forwarding a 1:1 call's media (path RTT, jitter, loss,
	// spare bandwidth, power).
	VoiceRelay
	// CallMixer: a peer mixing a group call (sum of RTTs to all participants, spare
	// bandwidth, CPU).
	CallMixer
	// BulkTransfer: a peer relaying or serving a file (spare bandwidth above all;
	// wired over wireless, mains over battery).
	BulkTransfer
	// PTTForward: a talkgroup member forwarding a push-to-talk transmission to
	// up to eight others (spare bandwidth, CPU, path RTT from the speaker).
	PTTForward
	numPurposes
)

var purposeNames = [numPurposes]string{"chat", "voice", "mixer", "bulk", "ptt"}

// Purposes lists the relay purposes the simulator (internal/relaysim)
// evaluates, in order. PTTForward is left out: the simulator does not model
// talkgroup trees yet, and its figures stay comparable with earlier runs.
func Purposes() []Purpose { return []Purpose{ChatForward, VoiceRelay, CallMixer, BulkTransfer} }

func (p Purpose) String() string {
	if p >= 0 && p < numPurposes {
		return purposeNames[p]
	}
	return fmt.Sprintf("purpose(%d)", int(p))
}

// ParsePurpose accepts the names String returns (case-insensitive).
func ParsePurpose(s string) (Purpose, error) {
	for p, name := range purposeNames {
		if strings.EqualFold(s, name) {
			return Purpose(p), nil
		}
	}
	return 0, fmt.Errorf("selection: unknown purpose %q (want chat, voice, mixer, bulk or ptt)", s)
}

// Power is a peer's power source. Values are the wire values.
type Power uint8

const (
	PowerUnknown Power = iota
	Mains
	Battery
)

func (p Power) String() string {
	switch p {
	case Mains:
		return "mains"
	case Battery:
		return "battery"
	}
	return "unknown"
}

// LinkType is the kind of a peer's access link. Values are the wire values.
type LinkType uint8

const (
	LinkUnknown LinkType = iota
	Wired
	Wireless
)

func (l LinkType) String() string {
	switch l {
	case Wired:
		return "wired"
	case Wireless:
		return "wireless"
	}
	return "unknown"
}
