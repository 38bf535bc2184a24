// Package selection ranks candidate peers for a purpose — forwarding chat, relaying
// a call, mixing a group call, carrying a bulk transfer — from the shared picture
// every peer publishes, this node's own measurements, and optionally an
// administrator's cost map. It is the one place such choices are made.
//
// # Costs
//
// Every candidate gets a cost in milliseconds-equivalent ("as bad as N ms more
// RTT"), so one hysteresis threshold and one cost-map unit work for every purpose.
// The cost sums, over each endpoint the candidate must reach (From and To for a
// relay, every participant for a mixer), the leg between them, then adds the
// candidate's own terms. A leg is, in order of preference:
//
//   - measured: a link this node measured (Graph.Own) or a peer published
//     (Graph.Links; both ends' views are combined: mean RTT, worse variation/loss),
//     its loss taken halfway toward what the ends' access shares predict (a loss
//     figure rests on about a thousand packets);
//   - estimated: RTT from the two Vivaldi coordinates, but no less than 1.2 times
//     what the two ends' access shares of RTT add up to (the typical measured
//     path); loss and jitter from the two ends' access shares, recovered from all
//     published links (see access.go);
//   - unknown: UnknownRTTMs (50 ms), worse than any LAN path.
//
// Terms (Ranked.Terms says how much each contributed, and which RTT source):
//
//	rtt_*        W.RTT × leg RTT, split by source (measured / estimated / unknown)
//	uncertainty  W.Uncertain × relative Vivaldi error × estimated RTT
//	rttvar       W.RTTVar × leg RTT mean deviation
//	jitter       W.Jitter × leg jitter
//	loss         W.LossMs × percent loss summed over legs; for TCP-limited purposes
//	             instead the extra time the Mathis rate cap (MSS·1.22/(RTT·√p)) costs
//	bandwidth    W.Bandwidth × need / spare (spare = min(up, down); need per
//	             participant for the mixer; ratio capped at 1000)
//	power        W.Battery if on battery, half if unknown
//	link         W.Wireless if wireless, half if unknown
//	load         W.PerSession × relay sessions already carried
//	cpu          W.CPU × ρ/(1−ρ), ρ = CPU load capped at 0.95 (W.CPU is the cost at 50 %)
//	costmap      the administrator's cost of each leg
//	reputation   W.Failure × the candidate's recent failures as this node saw them
//	             (PeerInfo.Failures: linkquality.Reputation, 10 min half-life)
//
// Default weights (DefaultWeights):
//
//	term           chat   voice   mixer       bulk          ptt
//	RTT            1      1       1           0.2           1
//	RTTVar         1      0       0           0             0
//	Jitter         0      2       2           0             1
//	LossMs /%      2      10      10          (TCP cap)     5
//	Uncertain      0.25   0.25    0.25        0.25          0.25
//	NeedKbps       16     256     256/part.   8389 (1 MiB)  640
//	Bandwidth ms   1      20      20          1000 (1 MiB)  20
//	Battery ms     2      15      30          50            15
//	Wireless ms    1      5       10          30            10
//	PerSession ms  0.5    3       5           10            2
//	CPU ms @50 %   0      2       20          0             20
//	Failure ms     5      15      15          50            15
//
// Why: chat is tiny and retried, so latency and stability dominate (a lost segment
// costs one 200 ms RTO with probability p: 2 ms per percent). Voice needs two 64
// kbit/s streams each way, doubled for headroom; a jitter buffer adds about twice the
// jitter; Opus FEC hides a percent of loss for about 10 ms. A mixer sums every
// participant's RTT and burns CPU. Bulk is the time to move a 1 MiB chunk, where
// spare bandwidth, the TCP rate cap, and not draining a battery matter far more than
// a few ms of RTT. A PTT forwarder (talkgroup) sends each frame to up to 8
// members, ~40 kbit/s each, doubled; it verifies every frame, so a busy CPU
// delays every listener below it, and each hop adds its RTT.
// One recent failure (a relay ask not granted) weighs as much as a battery: above
// the hysteresis's 10 ms clear gain for voice, mixer and PTT, so between otherwise
// equal relays the one that just failed loses at once; chat retries cheaply (5 ms);
// a bulk source that failed costs a chunk's worth of waiting (50 ms).
//
// Legs that nobody measured get their RTT from Vivaldi, but coordinates say nothing
// about loss or jitter; those come from each end's "access share", recovered from all
// published links on the assumption that on a LAN they belong to the access link
// (see access.go). Without it, the simulator's median gap to the oracle triples.
//
// For the overlay's shortest paths, EdgeCost gives the additive per-link part
// (RTT + RTTVar, jitter and loss terms) of a purpose's weights.
//
// # Hysteresis
//
// A Chooser keeps each decision's current choice until one of two rules lets go of
// it. A clear gain — more than MinGain (10 ms-equivalent) cheaper AND below Ratio
// (2/3) of the current cost, Tailscale's rule for DERP regions — is taken at once.
// A persistent gain — more than SlowMinGain (1 ms) cheaper AND below SlowRatio
// (0.8) of the current cost on every look for Hold (30 s) — is taken once the
// current choice has been kept for Dwell (2 minutes). The second rule is relative
// because LAN costs are often 1–20 ms, where a 10 ms threshold is the whole cost.
// A choice that vanished or went offline is replaced at once. Time is passed in
// (ChooseAt), so the simulator's virtual clock drives the same rule.
//
// # Cost map
//
// An administrator may describe the network with a text file, one entry a line:
//
//	# prefix      prefix        cost (ms-equivalent, symmetric)
//	10.0.1.0/24   10.0.2.0/24   25    # the two floors share a congested uplink
//	10.0.9.0/24   0.0.0.0/0     200   # guest Wi-Fi: avoid relaying through it
//	10.0.1.7      10.0.2.0/24   5     # a bare address is a host prefix
//
// '#' starts a comment; blank lines are ignored; IPv4-mapped forms are unmapped and
// host bits cleared; a pair given twice (in either order) is an error. For two
// addresses the matching entry with the longest prefixes wins (largest sum of the
// two lengths, then the longer shorter one, then the earlier line). Rank adds the
// cost of each leg, between the first addresses of the candidate and the endpoint;
// unmatched legs add nothing.
//
// # Self-metrics wire format
//
// What a peer publishes about itself travels in its signed record as extension type
// ExtensionType (2). Integers are big-endian:
//
//	off  len  field
//	0    1    version (1)
//	1    1    power: 0 unknown, 1 mains, 2 battery
//	2    1    link type: 0 unknown, 1 wired, 2 wireless
//	3    1    CPU load, 0–255 for 0–100 %
//	4    4    spare upload, kbit/s (0 = unknown)
//	8    4    spare download, kbit/s (0 = unknown)
//	12   2    relay sessions carried
//	14   4    relay bandwidth used, kbit/s
//	18   16   Vivaldi coordinate (package vivaldi: 4 × float32 X, Y, height, error)
//	34   1    link count L (≤ 255)
//	35   30×L links, each:
//	          +0   16  peer ID (raw)
//	          +16  4   smoothed RTT, µs
//	          +20  4   RTT mean deviation, µs
//	          +24  4   jitter, µs
//	          +28  2   loss, units of 1/65535
//	35+30L    optional fields, to the end, each:
//	          +0   1   tag
//	          +1   1   length N
//	          +2   N   value
//	          tag 1, N = 8: cell, u64: the salted hash of the Wi-Fi access
//	          point's BSSID (linkquality.CellID); absent = unknown or wired
//
// A record with L links and no optional field is 35 + 30·L bytes (a cell adds
// 10); a peer publishes at most MaxPublishedLinks (16) of its links, the nearest
// (PublishedLinks). DecodeSelf rejects another version, power or link type values
// above 2, an invalid coordinate, a truncated link list, a peer listed twice, a
// field longer than what is left, or a cell not 8 bytes long; fields of unknown
// tags are skipped, so later revisions may append fields. Decoders that predate
// the optional fields ignore every byte after the links, so a record with a cell
// reads the same to them, minus the cell.
//
// # Measuring
//
// LinkEstimator turns a link's RTT samples and loss counters into the published
// figures: slow averages over minutes (RTT, mean deviation, RFC 3550 jitter) and
// over the last thousand packets (loss), next to the fast RFC 6298 SRTT/RTTVAR for
// timers. SelfEstimator smooths a peer's readings of its own spare bandwidth and
// CPU, quick to follow a step for the worse and slow to follow one for the better. Publishing fast or raw values made
// every Wi-Fi spike a "material change" and doubled the flooded bytes for no better
// choices.
//
// # Republishing
//
// A record floods to every peer, so metrics are republished only when
// MaterialChange says they moved enough to matter (see its doc for the thresholds),
// at most once per 30 s, and at least every 10 minutes (Publisher); a record that
// says the peer became a much worse relay (Worsened) may go out 5 s after the last.
package selection
