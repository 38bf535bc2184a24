package voice

import (
	"testing"
	"time"

	"parley/media/audio"
	"parley/media/opus"
	"parley/media/signal"
)

// BenchmarkPipeline pushes b.N frames through Sender → (zero-delay network) →
// Receiver and reports:
//
//	ns/op       wall time per frame for everything in between: encode, hand-off,
//	            jitter buffer, decode, sink write
//	%core       that as a share of one core (one frame per 20 ms)
//	latency-ms  time from a frame entering the Sender to the same audio leaving the
//	            decoder: the virtual delay measured by aligning output with input
//	            (jitter buffer at its 20 ms minimum target, the receiver's tick 10 ms
//	            after the sender's, Opus's 6.5 ms look-ahead) plus the wall time per
//	            frame. Device buffers are not included.
func BenchmarkPipeline(b *testing.B) {
	frames := max(b.N, 200)
	const phase = 10 * time.Millisecond
	b.ResetTimer()
	r := runPipeline(b, &sweep{}, opus.Options{FEC: true, ExpectedLossPercent: 10}, network{delay: fixed(0), phase: phase}, frames)
	b.StopTimer()
	perFrame := time.Duration(b.Elapsed().Nanoseconds() / int64(frames))
	n := 200 * audio.FrameSamples
	lag, corr := signal.Align(r.sent[:n], r.heard[:n], audio.SampleRate/2)
	if corr < 0.9 {
		b.Fatalf("output does not match input (corr %.3f)", corr)
	}
	virtual := time.Duration(lag)*time.Second/audio.SampleRate + phase
	b.ReportMetric(float64(virtual+perFrame)/float64(time.Millisecond), "latency-ms")
	b.ReportMetric(100*float64(perFrame)/float64(audio.FrameDuration), "%core")
}
