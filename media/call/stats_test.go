package call

import (
	"testing"

	"github.com/pion/webrtc/v3"
)

func TestCandidateKindSeesRelayBehindPeerReflexive(t *testing.T) {
	r := &Relay{URLs: []string{"turn:10.99.0.13:3478?transport=udp", "turn:[fd00::13]:3478?transport=udp", "stun:10.0.0.1:3478"}}
	for _, c := range []struct {
		typ   webrtc.ICECandidateType
		addr  string
		relay *Relay
		want  string
	}{
		{webrtc.ICECandidateTypePrflx, "10.99.0.13", r, "relay"}, // the peer's allocation, reached before its candidate came
		{webrtc.ICECandidateTypePrflx, "fd00::13", r, "relay"},
		{webrtc.ICECandidateTypePrflx, "10.99.0.12", r, "prflx"}, // some other address
		{webrtc.ICECandidateTypePrflx, "10.0.0.1", r, "prflx"},   // a STUN URL is no relay
		{webrtc.ICECandidateTypePrflx, "10.99.0.13", nil, "prflx"},
		{webrtc.ICECandidateTypeHost, "10.99.0.13", r, "host"},
		{webrtc.ICECandidateTypeRelay, "10.99.0.13", r, "relay"},
	} {
		got := candidateKind(&webrtc.ICECandidate{Typ: c.typ, Address: c.addr}, c.relay)
		if got != c.want {
			t.Errorf("%s at %s (relay %v): %q, want %q", c.typ, c.addr, c.relay != nil, got, c.want)
		}
	}
}
