package app

import (
	"testing"
	"time"
)

func TestEndedTextInPlainWords(t *testing.T) {
	for _, c := range []struct {
		reason          string
		outgoing, group bool
		want            string
	}{
		{"hangup", true, false, "You ended the call"},
		{"remote_hangup", true, false, "Bob hung up"},
		{"remote_hangup", false, true, "Everyone else has left the call"},
		{"declined", true, false, "Bob declined the call"},
		{"declined", false, false, "You declined the call"},
		{"declined", true, true, "Nobody took the call"},
		{"busy", true, false, "Bob is in another call"},
		{"cancelled", false, false, "Missed call — Bob hung up before you answered"},
		{"timeout", true, false, "No answer from Bob"},
		{"timeout", false, false, "Missed call from Bob"},
		{"peer_lost", true, false, "Connection to Bob lost"},
		{"failed", true, false, "The call could not connect: no network path for the audio to Bob"},
		{"shutdown", false, false, "Call ended: Parley is closing"},
		{"ice_gone_wrong", false, false, "Call ended (ice gone wrong)"},
	} {
		if got := endedText(c.reason, c.outgoing, c.group, "Bob"); got != c.want {
			t.Errorf("%s (out %v, group %v): %q, want %q", c.reason, c.outgoing, c.group, got, c.want)
		}
	}
}

func TestCallWords(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "00:00", 65 * time.Second: "01:05",
		59*time.Minute + 59*time.Second: "59:59", time.Hour + 2*time.Minute + 3*time.Second: "1:02:03", -time.Second: "00:00"} {
		if got := elapsed(d); got != want {
			t.Errorf("elapsed(%v) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[int]string{0: "", 1: "A", 2: "A and B", 3: "A, B and C"} {
		if got := joinNames([]string{"A", "B", "C"}[:n]); got != want {
			t.Errorf("joinNames of %d = %q", n, got)
		}
	}
	if got := qualityText(250, 0.001, []string{"Dave", "Eve"}); got != "Fair · 250 ms · 0.1 % loss · via Dave and Eve" {
		t.Errorf("qualityText = %q", got)
	}
	if qualityWord(20, 0.06) != "Poor" || qualityWord(20, 0) != "Good" {
		t.Error("quality words")
	}
	if meterLevel(0) != 0 || meterLevel(1) != 1 || meterLevel(0.001) != 0 {
		t.Error("meter ends")
	}
	if l := meterLevel(0.01); l < 0.2 || l > 0.3 { // −40 dBFS: a quarter
		t.Errorf("meterLevel(−40 dBFS) = %v", l)
	}
}
