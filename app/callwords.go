package app

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Call states as the core names them (node.CallState.State).
const (
	callCalling    = "calling"
	callRinging    = "ringing"
	callIncoming   = "incoming"
	callConnecting = "connecting"
	callActive     = "active"
	callEnded      = "ended"
)

// maxCallOthers is how many others one call can hold (the core's limit is six
// participants, the caller included).
const maxCallOthers = 5

// joinNames lists names as a sentence does: "A", "A and B", "A, B and C".
func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// elapsed is a call's running time: "04:37", or "1:02:03" past an hour.
func elapsed(d time.Duration) string {
	s := int(max(d, 0) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// progressText is what a call that is not yet active is doing.
func progressText(state string) string {
	switch state {
	case callCalling:
		return "Calling…"
	case callRinging:
		return "Ringing…"
	case callIncoming:
		return "Incoming call"
	case callConnecting:
		return "Connecting…"
	}
	return ""
}

// endedText says in plain words why a call ended. who names the others; group
// calls end only when everyone else is gone, so their wording is collective.
func endedText(reason string, outgoing, group bool, who string) string {
	switch reason {
	case "hangup":
		return "You ended the call"
	case "remote_hangup":
		if group {
			return "Everyone else has left the call"
		}
		return who + " hung up"
	case "declined":
		if !outgoing {
			return "You declined the call"
		}
		if group {
			return "Nobody took the call"
		}
		return who + " declined the call"
	case "busy":
		if group {
			return "Everyone you called is in another call"
		}
		return who + " is in another call"
	case "cancelled":
		return "Missed call — " + who + " hung up before you answered"
	case "timeout":
		if outgoing {
			return "No answer from " + who
		}
		return "Missed call from " + who
	case "peer_lost":
		return "Connection to " + who + " lost"
	case "failed":
		return "The call could not connect: no network path for the audio to " + who
	case "shutdown":
		return "Call ended: Parley is closing"
	case "":
		return "Call ended"
	}
	return "Call ended (" + strings.ReplaceAll(reason, "_", " ") + ")"
}

// qualityWord rates a leg the way people hear it: a long round trip makes
// people talk over each other, loss makes words drop out.
func qualityWord(rttMs, loss float64) string {
	switch {
	case loss >= 0.05 || rttMs >= 400:
		return "Poor"
	case loss >= 0.02 || rttMs >= 200:
		return "Fair"
	}
	return "Good"
}

// qualityText is the live line of the call bar: the worst leg's figures and
// the relays the audio goes through.
func qualityText(rttMs, loss float64, relays []string) string {
	s := fmt.Sprintf("%s · %.0f ms · %.1f %% loss", qualityWord(rttMs, loss), rttMs, loss*100)
	if len(relays) > 0 {
		s += " · via " + joinNames(relays)
	}
	return s
}

// meterLevel maps a played frame's RMS (0–1) to a meter fill: speech sits
// around −40 to −10 dBFS, so that range spans the meter.
func meterLevel(rms float64) float64 {
	if rms <= 0 {
		return 0
	}
	db := 20 * math.Log10(rms)
	return min(max((db+50)/40, 0), 1)
}
