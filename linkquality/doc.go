// Package linkquality measures this node's links and machine and publishes the
// result in its peer record, so that every peer can rank relays from everyone's
// picture (package selection ranks; this package feeds it). A Monitor does, once
// a second (Run):
//
//   - measure the links (coord.go, lossfold.go, measure.go): each ping's RTT feeds
//     the link's selection.LinkEstimator (smoothed over minutes: one Wi-Fi spike
//     must not republish the record) and, through a moving median, this node's
//     Vivaldi coordinate; loss comes from the kernel's TCP retransmission counters
//     where it has them, folded in batches of minLossPackets (20) with stretches
//     of bulk data (> bulkBatchBytes, 8 KiB) and the stretch after them skipped,
//     since TCP loses packets on purpose when it fills a bottleneck;
//   - measure the machine (machine.go, through the injected Machine): power
//     source, link medium (wireless if any interface carrying an advertised
//     address is; read at most every linkTypeEvery, 30 s) and the Wi-Fi cell
//     (cell.go: a salted hash of the access point's BSSID, from nl80211 on
//     Linux), CPU load between two
//     readings of the counters, and the load it relays for others (Config.Load);
//   - ping a far peer (farping.go): every vivaldi.FarPingEvery (10–30 s by the
//     peers online, ±50 %) one random non-neighbour, three times through the
//     overlay, the median moving the coordinate; pings answered at most one a
//     second (burst 6), every drop counted (Stats);
//   - probe spare bandwidth (probe.go): each link once ProbeInterval (10 min),
//     a new one 2 s after it came up, with one burst of overlay.ProbeBytes
//     (64 KiB) bounded by probeTimeout (10 s); spare = the fastest link's
//     measured rate minus what the links carry now, each direction;
//   - publish (publish.go): the figures go into the record extension
//     selection.ExtensionType (byte layout: the selection package doc) when
//     selection.Publisher says they changed materially (at most every 30 s,
//     within 5 s if they got worse, at least every 10 minutes), with at most
//     selection.MaxPublishedLinks links;
//   - rank (graph.go, edgecost.go): Graph is the picture selection.Rank works on
//     (everyone's published figures plus this node's fresh own, with the claims
//     its own measurements contradict discounted: distrust.go), Choose holds a
//     choice per purpose with selection's hysteresis, and EdgeCoster.Cost weighs
//     the overlay's chat routes from both ends' published figures.
//
// What it needs of the rest of the node is the Overlay interface (links,
// records, the capacity probe, SendTo for far pings; *overlay.Overlay satisfies it), the Machine
// interface (OS reads /sys, /proc and the interface table; tests inject fakes),
// a clock and a logger. The node wires it up (node/relays.go) and feeds it the
// overlay's OnRTTSample and OnProbeSeen hooks and the far-ping frame types
// (OnFarPing, OnFarPong) direct and routed.
//
// Which tests re-measure the constants: TestFoldLossUsesTransportCountersInBatches
// (minLossPackets, bulkBatchBytes), TestMonitorProbesAndPublishes and
// TestProbeTimeoutCountsAsSlow (probeSettle, ProbeInterval, probeTimeout, the
// spare-bandwidth rule), TestFarPingSample and TestFarPingAnswersAreBounded
// (the far sample and the answer budget), TestLinkMediumReadEvery30s (linkTypeEvery), the
// integration test TestRelayChoiceFollowsShaping
// (itest/relay_test.go: probing, loss folding and publishing end to end on shaped
// namespaces; the flapping that bulkBatchBytes fixed was seen there),
// BenchmarkEdgeCostPass (the edge-cost cache), and cmd/benchrelay with
// docs/relay-selection.md for the publish intervals and the ranking weights.
package linkquality
