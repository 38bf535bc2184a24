package chat

import (
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkDurableThroughput measures 1:1 messages per second when each one is
// committed by the sender before it is sent and acknowledged by the receiver only
// after its own commit: two Services with real bbolt files over a direct link of the
// in-memory network, b.N messages written with SendAsync, timed until every one of
// them is Delivered.
func BenchmarkDurableThroughput(b *testing.B) {
	n := newFakeNet(b)
	a, r := n.addNode(1, time.Second), n.addNode(2, time.Second) // production retry interval
	n.link(a.id.ID, r.id.ID)
	var delivered atomic.Int64
	all := make(chan struct{})
	target := int64(b.N)
	// Count Delivered events in place of the recorder: b.N can be large.
	a.stop()
	a.ev = nil
	a.emit = func(ev Event) {
		if _, ok := ev.(Delivered); ok && delivered.Add(1) == target {
			close(all)
		}
	}
	a.start()
	r.stop()
	r.emit = func(Event) {}
	r.start()

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	errs := make([]<-chan error, b.N)
	for i := range b.N {
		_, errs[i] = a.svc.SendAsync(r.id.ID, "benchmark message of a typical length, about sixty bytes")
	}
	for _, ch := range errs {
		if err := <-ch; err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d messages delivered", delivered.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(a.stats.Get("chat_commits")), "sender-commits")
	b.ReportMetric(float64(r.stats.Get("chat_commits")), "receiver-commits")
}
