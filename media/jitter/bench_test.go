package jitter

import (
	"testing"
	"time"
)

// BenchmarkPushPop is the jitter buffer's cost per 20 ms frame in a steady call: one
// packet in, one frame out, with some reordering so the sorted insert does work.
func BenchmarkPushPop(b *testing.B) {
	buf := New(Config{})
	payload := make([]byte, 60)
	i := 0
	for b.Loop() {
		// Swap each pair of packets on the wire.
		j := i ^ 1
		arr := t0.Add(time.Duration(i)*frameDur + 5*time.Millisecond)
		buf.Push(Packet{Seq: uint16(j), Timestamp: uint32(j) * 960, Payload: payload, Arrival: arr})
		buf.Pop(t0.Add(time.Duration(i)*frameDur + 10*time.Millisecond))
		i++
	}
	if st := buf.Stats(); st.Played < uint64(i)*9/10 {
		b.Fatalf("played %d of %d: %+v", st.Played, i, st)
	}
}
