package call

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
)

const goodCandidate = `{"candidate":"candidate:1 1 udp 2130706431 10.77.1.11 40000 typ host","sdpMid":"0","sdpMLineIndex":0}`

func TestDecodeCandidate(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"full", goodCandidate, true},
		{"candidate line only", `{"candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host"}`, true},
		{"unknown fields ignored", `{"candidate":"x","colour":"blue"}`, true}, // pion refuses the line later
		{"empty", "", false},
		{"null", "null", false},
		{"empty object", "{}", false},
		{"empty candidate line", `{"candidate":"","sdpMid":"0"}`, false},
		{"array", `[1,2]`, false},
		{"string", `"candidate:1 1 udp 1 10.0.0.1 9 typ host"`, false},
		{"truncated", goodCandidate[:40], false},
		{"wrong type", `{"candidate":5}`, false},
		{"m-line index beyond u16", `{"candidate":"x","sdpMLineIndex":70000}`, false},
		{"negative m-line index", `{"candidate":"x","sdpMLineIndex":-1}`, false},
		{"not json", "candidate:1 1 udp 1 10.0.0.1 9 typ host", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ci, err := decodeCandidate(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("decodeCandidate(%q) = %+v, %v; want ok %v", tc.in, ci, err, tc.ok)
			}
			if err != nil && (ci.Candidate != "" || ci.SDPMid != nil || ci.SDPMLineIndex != nil) {
				t.Fatalf("rejected candidate still returned %+v", ci)
			}
		})
	}
}

// TestRemoteCandidatesBufferedBounded: before the remote description only valid
// candidates are kept, at most maxPendingCandidates of them.
func TestRemoteCandidatesBufferedBounded(t *testing.T) {
	m := &Manager{cfg: Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	l := newLeg(&call{m: m}, peer(2), false)
	for i := range 3 * maxPendingCandidates {
		l.remoteCandidate("not json")
		l.remoteCandidate(`{"candidate":""}`)
		l.remoteCandidate(strings.Replace(goodCandidate, "40000", fmt.Sprint(40000+i), 1))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pendingRemote) != maxPendingCandidates {
		t.Fatalf("%d candidates buffered, want %d", len(l.pendingRemote), maxPendingCandidates)
	}
	for i, ci := range l.pendingRemote {
		if want := fmt.Sprintf(" %d typ", 40000+i); !strings.Contains(ci.Candidate, want) {
			t.Fatalf("buffered candidate %d is %q", i, ci.Candidate)
		}
	}
}
