package selection

// Weights turn measurements into a cost in milliseconds-equivalent: every term is
// "this is as bad as N ms more round-trip time", so that the hysteresis threshold
// (10 ms) and the cost map (ms) mean the same thing for every purpose. The package
// doc has the defaults as a table and the reasons for each.
type Weights struct {
	RTT        float64 // per ms of path RTT
	RTTVar     float64 // per ms of RTT mean deviation (route stability)
	Jitter     float64 // per ms of jitter (what a jitter buffer must add)
	LossMs     float64 // ms-equivalent per percentage point of path loss
	Uncertain  float64 // × Vivaldi relative error × estimated RTT (distrust estimates)
	NeedKbps   float64 // bandwidth the candidate must carry (per participant if NeedPerLeg)
	NeedPerLeg bool    // mixer: need scales with the number of participants
	Bandwidth  float64 // ms-equivalent when spare == need; the term is Bandwidth·need/spare
	// TCPLimited: the flow is TCP-like, so loss and RTT cap its rate (Mathis et al.):
	// the loss term is the extra time the capped rate costs, not LossMs.
	TCPLimited bool
	Battery    float64 // fixed penalty for a battery-powered candidate (half if unknown)
	Wireless   float64 // fixed penalty for a wireless candidate (half if unknown)
	PerSession float64 // per relay session the candidate already carries
	CPU        float64 // ms-equivalent at 50 % CPU; scales as ρ/(1−ρ) (queueing delay)
	// Failure is the ms-equivalent of one recent failure this node saw the candidate
	// make (PeerInfo.Failures, decaying with a 10 min half-life).
	Failure float64

	// Model switches, for the simulator's comparison in worlds where the model is
	// wrong (benchrelay -model); the zero value is the protocol. NoAccessShares
	// ranks without the access-share model: an estimated leg gets no loss,
	// variation or jitter, a measured leg's loss is not shrunk toward the shares,
	// and there is no floor. NoFloor drops only the floor under estimated legs.
	NoAccessShares, NoFloor bool
}

// DefaultWeights returns the documented weights for p (zero Weights for an unknown
// purpose, which ranks by nothing but ID).
func DefaultWeights(p Purpose) Weights {
	switch p {
	case ChatForward:
		// Text is tiny and retried by the transport: latency and its stability are
		// all that matter. A lost segment costs about one minimum RTO (200 ms) with
		// probability p, i.e. 2 ms per percent.
		return Weights{RTT: 1, RTTVar: 1, LossMs: 2, Uncertain: 0.25,
			NeedKbps: 16, Bandwidth: 1, Battery: 2, Wireless: 1, PerSession: 0.5, Failure: 5}
	case VoiceRelay:
		// Two 64 kbit/s streams each way through the relay, ×2 headroom = 256 kbit/s.
		// A jitter buffer adds about twice the jitter to the mouth-to-ear delay. Opus
		// with FEC hides a percent of loss at roughly the cost of 10 ms of delay.
		return Weights{RTT: 1, Jitter: 2, LossMs: 10, Uncertain: 0.25,
			NeedKbps: 256, Bandwidth: 20, Battery: 15, Wireless: 5, PerSession: 3, CPU: 2, Failure: 15}
	case CallMixer:
		// Each participant sends one 64 kbit/s stream and receives one mix: 128 kbit/s
		// per participant, ×2 headroom. Mixing costs CPU, and a busy CPU delays every
		// participant's audio.
		return Weights{RTT: 1, Jitter: 2, LossMs: 10, Uncertain: 0.25,
			NeedKbps: 256, NeedPerLeg: true, Bandwidth: 20,
			Battery: 30, Wireless: 10, PerSession: 5, CPU: 20, Failure: 15}
	case BulkTransfer:
		// Cost = time to move a 1 MiB chunk (8389 kbit) through the candidate in ms:
		// Bandwidth 1000 × need/spare. RTT and loss enter through the TCP rate cap.
		// Relaying over Wi-Fi spends the air twice; a battery peer should not be
		// drained for someone else's file.
		return Weights{RTT: 0.2, Uncertain: 0.25, NeedKbps: 8389, Bandwidth: 1000,
			TCPLimited: true, Battery: 50, Wireless: 30, PerSession: 10, Failure: 50}
	case PTTForward:
		// A forwarder sends each frame to up to 8 members: 8 × ~40 kbit/s
		// (24 kbit/s Opus plus the signed frame's ~100 bytes of header) ≈
		// 320 kbit/s, ×2 headroom. Every hop adds its path RTT/2 to
		// mouth-to-ear delay and its queueing delay when its CPU is busy
		// (each frame is verified before it is forwarded); jitter barely
		// matters over TCP links with a jitter buffer at the end.
		return Weights{RTT: 1, Jitter: 1, LossMs: 5, Uncertain: 0.25,
			NeedKbps: 640, Bandwidth: 20, Battery: 15, Wireless: 10, PerSession: 2, CPU: 20, Failure: 15}
	}
	return Weights{}
}

// RTTOnlyWeights ranks by path RTT alone: the baseline the simulator compares with.
func RTTOnlyWeights() Weights { return Weights{RTT: 1} }
