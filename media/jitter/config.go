package jitter

import "time"

// Config tunes a Buffer; zero fields take the defaults below.
type Config struct {
	// MinDelay and MaxDelay bound the target playout delay (defaults 20 ms and
	// 200 ms). The minimum is what a perfect network costs; the maximum is what the
	// worst network is allowed to cost before late packets are simply lost.
	MinDelay, MaxDelay time.Duration
	// MaxPackets and MaxSpan bound what is buffered (defaults 50 packets and 1 s).
	MaxPackets int
	MaxSpan    time.Duration
	// ClockRate is the RTP timestamp rate and FrameSamples the timestamp units per
	// packet (defaults 48000 and 960: Opus, 20 ms).
	ClockRate    int
	FrameSamples int
}

const (
	defaultMinDelay   = 20 * time.Millisecond
	defaultMaxDelay   = 200 * time.Millisecond
	defaultMaxPackets = 50
	defaultMaxSpan    = time.Second
	defaultClockRate  = 48000
	defaultFrame      = 960

	// maxDropout is the sequence jump taken as a new stream (RFC 3550 appendix A.1).
	maxDropout = 3000
	// maxTSJump is the timestamp jump taken as a new stream.
	maxTSJump = 60 * time.Second
	// minWindow is how far back the fastest-path transit is remembered, in buckets
	// so that an old minimum expires without keeping every sample.
	minBuckets     = 5
	minBucketWidth = 2 * time.Second
	// peakHold and peakTau: how long a delay spike holds the target up, and how
	// fast it decays after.
	peakHold = 2 * time.Second
	peakTau  = 5 * time.Second
	// concealRun is how many frames an empty buffer is concealed before the buffer
	// settles to silence (Opus concealment fades out within about that much).
	concealRun = 5
	// skipEvery limits frame drops during speech, so that shrinking the delay is
	// spread out instead of audible as a jump.
	skipEvery = 5
	// reanchorAfter: packets that keep arriving late, with none on time, for this
	// long mean the path got slower for good (by more than MaxDelay, less than
	// the 1 s taken as a new timeline), and the buffer starts a timeline on the
	// new path instead of playing silence until the old fastest transit leaves
	// its 10 s window. A delay spike delivers its late packets in one burst, far
	// shorter than this (TestLastingDelayStepReanchors,
	// TestLatePacketGrowsTargetThenItDecays).
	reanchorAfter = 100 * time.Millisecond
	// seenWindow is how many recent sequence numbers duplicate detection remembers.
	seenWindow = 512
)

func (c Config) withDefaults() Config {
	if c.MinDelay <= 0 {
		c.MinDelay = defaultMinDelay
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = defaultMaxDelay
	}
	if c.MaxDelay < c.MinDelay {
		c.MaxDelay = c.MinDelay
	}
	if c.MaxPackets <= 0 {
		c.MaxPackets = defaultMaxPackets
	}
	if c.MaxSpan <= 0 {
		c.MaxSpan = defaultMaxSpan
	}
	if c.ClockRate <= 0 {
		c.ClockRate = defaultClockRate
	}
	if c.FrameSamples <= 0 {
		c.FrameSamples = defaultFrame
	}
	return c
}
