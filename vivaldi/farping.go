package vivaldi

import "time"

// Far-peer pings. A coordinate that only ever hears from overlay neighbours embeds
// them well and everyone else by triangulation alone; the paper's nodes also sample
// random far peers. Parley's node pings one random peer it has no link to every
// FarPingEvery (through the overlay, as routed frames) and the simulator models
// the same rule (internal/relaysim/farping.go), so both embed far peers alike.
const (
	// FarPings is how many pings one far sample sends; their median is the
	// sample (one Wi-Fi power-save spike out of three is dropped, as Filter does
	// for neighbours).
	FarPings = 3
	// FarPingMin and FarPingMax bound the period between two far samples.
	FarPingMin = 10 * time.Second
	FarPingMax = 30 * time.Second
)

// FarPingEvery is the mean period between two far samples of one peer when online
// peers are online: 10 s in a hall of up to 20 (a young coordinate needs samples),
// growing with the hall to 30 s at 60 and beyond, so every peer answers about
// FarPings/FarPingEvery ≈ 0.1–0.3 pings a second on average however many peers
// there are (targets are random) and the routed frames the overlay carries for
// them grow only linearly with the hall. Callers spread each period by ±50 %
// so peers that started together do not ping in step.
func FarPingEvery(online int) time.Duration {
	d := time.Duration(online) * time.Second / 2
	return min(max(d, FarPingMin), FarPingMax)
}
