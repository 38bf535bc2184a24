// Package relaysim is a deterministic, in-process simulator for relay selection:
// it runs the real measurement, publishing and ranking code (packages vivaldi and
// selection) of 50 to a few hundred peers on synthetic LANs, on a virtual clock, and
// scores every choice against ground truth.
//
// # Network model
//
// Peers attach to cells: Wi-Fi access points and switches placed in a plane per
// segment (the planar distance between two cells is their core RTT, 0.05–2 ms). An
// attachment contributes a base delay (Wi-Fi lognormal around 2.5 ms, 1–15 ms;
// wired 0.05–0.3 ms), exponential queueing (Wi-Fi 0.3–2.5 ms mean, wired ≤ 0.1),
// Wi-Fi power-save/retry spikes (10–60 ms with a 0–4 % chance per sample) and loss
// (Wi-Fi exponential around 1.2 %, capped at 5 %; wired ≤ 0.05 %). Each pair's base
// is scaled by a fixed lognormal factor (σ 0.1) so that paths violate the triangle
// inequality a little. Topologies: Wi-Fi cells (3–6 cells, 85 % wireless),
// a wired backbone (2–4 switches, 80 % wired), and two segments (one of each)
// joined only by 2–3 dual-homed peers through which every cross-segment path goes.
//
// Capacities: Wi-Fi 5–200 Mbit/s, wired 100 or 1000. Processes redraw at
// exponential times: the owner's own traffic (mostly 0–30 % of capacity, a quarter
// of the time 50–97 %, every ~8 min), CPU load (every ~6 min), relay sessions for
// others (0–3, every ~10 min), each Wi-Fi cell's interference (×1.5–4 on queueing,
// spikes and loss 30 % of the time, every ~15 min), and churn (online ~90 min,
// offline ~15 min; one bridge always stays).
//
// # Peers
//
// Each peer opens Config.Degree (32) overlay links, to its nearest peers on each
// segment and a few random ones, and accepts those others open to it, as a node
// does. Every 5 s each online peer pings each of its links once, feeding a
// selection.LinkEstimator per link (loss from 10 packets' fate per interval, what an
// idle node link sends; an exact binomial), moves its Vivaldi coordinate
// with the link's mean RTT against the neighbour's published coordinate, and pings
// one random peer three times (median) for Vivaldi alone. It reads its own spare
// bandwidth and CPU with noise, smooths them with selection.SelfEstimator, and
// offers the result, with at most selection.MaxPublishedLinks of its links, to a
// selection.Publisher; a published record goes through the
// real EncodeSelf and DecodeSelf, and its bytes are counted as flooded to every
// online peer.
//
// # Decisions
//
// For each purpose, a number of concurrent sessions (5–15 minutes each, between
// fresh random endpoints: cross-segment ones in the bridged topology) are re-ranked
// every 10 s by the requesting endpoint, from the shared picture of published
// records plus its own fresh measurements, through a selection.Chooser. Each tick
// the true cost of each Strategy's choice (the protocol and the baselines: random,
// Tailscale's rule, wired first, measured candidates only, RTT only) is compared
// with the oracle (the best true cost over all online candidates), and for voice
// and the mixer rated with the ITU-T G.107 E-model (emodel.go).
//
// # Statistics
//
// The unit is a relay session (SessionSample: means over its ticks). Aggregate
// pools sessions over seeds, with 95 % intervals from a bootstrap over seeds.
// Seeds from FirstHeldOutSeed (11) on are held out: never used for tuning.
//
// # Truth
//
// The oracle costs candidates with selection.CandidateCost on ground truth: true
// mean RTT, mean absolute deviation and mean absolute difference of consecutive
// samples (closed forms checked against LinkEstimator in TestTruthMatchesEstimators),
// true loss, true spare bandwidth, CPU, sessions. So the benchmark measures how well
// decisions made on published, noisy, stale, partly estimated information do under
// the selection cost model — not whether that model matches what users feel.
//
// # Diagnostics
//
// Config.Knows (benchrelay -knows) replaces parts of what the peers know with the
// truth: measured links' loss or delay, the peers' own state, every pair; or lets
// the requester probe its short list before choosing. Comparing rows tells which
// missing information the gap to the oracle comes from. The zero value is the
// protocol as the node runs it.
//
// # Worlds
//
// Config.World adds what the estimation model does not assume (worlds.go): loss
// and jitter per pair, bursty loss, Wi-Fi airtime paid twice by a relay on its
// endpoint's access point, and load on chosen relays; Config.Model ranks without
// the floor or the access shares. The zero values are the base world and the
// protocol, whose output they leave byte for byte unchanged.
//
// # Limits
//
// In the base world chosen relays carry no load, loss is independent per packet
// and relaying costs no airtime (see Worlds); goodbyes are heard at once; records
// reach everyone instantly; no cost map is used. The peers' self-metrics and
// Vivaldi pings differ from the node's (docs/relay-selection.md, "Node and
// simulator").
package relaysim
