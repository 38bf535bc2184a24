package rtpopus

import (
	"testing"

	"parley/media/audio"
)

// Talk, pause (two DTX frames), talk: the pause skips no sequence number but
// moves the timestamp on, and the first packet after it carries the marker.
func TestPauseKeepsSequenceMovesTimestamp(t *testing.T) {
	var p Packetizer
	voice, dtx := make([]byte, 40), make([]byte, 1)
	first := p.Next(voice)
	if first == nil || !first.Marker || first.SequenceNumber != 0 || first.Timestamp != 0 {
		t.Fatalf("first packet %+v, want seq 0, ts 0, marker", first)
	}
	if p.Next(voice).Marker {
		t.Fatal("marker on a packet while talking")
	}
	for range 2 {
		if pkt := p.Next(dtx); pkt != nil {
			t.Fatalf("a DTX frame was packetized: %+v", pkt)
		}
	}
	after := p.Next(voice)
	if after.SequenceNumber != 2 || after.Timestamp != 4*audio.FrameSamples || !after.Marker {
		t.Fatalf("after the pause: seq %d ts %d marker %v; want 2, %d, true",
			after.SequenceNumber, after.Timestamp, after.Marker, 4*audio.FrameSamples)
	}
}
