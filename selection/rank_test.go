package selection

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/vivaldi"
)

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// peer is a well-provisioned online peer; options make it worse.
func peer(id string, opts ...func(*PeerInfo)) PeerInfo {
	p := PeerInfo{ID: id, Power: Mains, LinkType: Wired, SpareUpKbps: 100_000, SpareDownKbps: 100_000, Online: true}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func onBattery(p *PeerInfo) { p.Power = Battery }
func wireless(p *PeerInfo)  { p.LinkType = Wireless }
func offline(p *PeerInfo)   { p.Online = false }
func spare(k uint32) func(*PeerInfo) {
	return func(p *PeerInfo) { p.SpareUpKbps, p.SpareDownKbps = k, k }
}
func cpu(l float32) func(*PeerInfo) { return func(p *PeerInfo) { p.CPULoad = l } }
func at(x, y, h float64) func(*PeerInfo) {
	return func(p *PeerInfo) { p.Coord = vivaldi.Coord{X: x, Y: y, Height: h, Error: 0.1} }
}
func addr(s string) func(*PeerInfo) {
	return func(p *PeerInfo) { p.Addrs = []netip.Addr{netip.MustParseAddr(s)} }
}

func link(a, b string, rtt, rttvar, jitter float64, loss float32) LinkInfo {
	return LinkInfo{A: a, B: b, RTT: ms(rtt), RTTVar: ms(rttvar), Jitter: ms(jitter), Loss: loss}
}

func graph(peers []PeerInfo, links ...LinkInfo) *Graph {
	g := &Graph{Peers: map[string]PeerInfo{}, Links: links}
	for _, p := range peers {
		g.Peers[p.ID] = p
	}
	return g
}

// near compares costs built from float32 loss figures.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func ids(r []Ranked) []string {
	out := make([]string, len(r))
	for i, x := range r {
		out[i] = x.ID
	}
	return out
}

func TestRankPicksTheObviousCandidate(t *testing.T) {
	ends := []PeerInfo{peer("a"), peer("b")}
	cases := []struct {
		name    string
		purpose Purpose
		peers   []PeerInfo
		links   []LinkInfo
		to      []string
		want    string
	}{
		{
			name:    "voice: mains+wired+spare beats a slightly closer battery phone",
			purpose: VoiceRelay,
			peers:   []PeerInfo{peer("phone", onBattery, wireless, spare(600)), peer("desk")},
			links: []LinkInfo{link("a", "phone", 3, 0, 1, 0), link("phone", "b", 3, 0, 1, 0),
				link("a", "desk", 5, 0, 0.5, 0), link("desk", "b", 5, 0, 0.5, 0)},
			to: []string{"b"}, want: "desk",
		},
		{
			name:    "voice: but not when the desk is much further away",
			purpose: VoiceRelay,
			peers:   []PeerInfo{peer("phone", onBattery, wireless, spare(600)), peer("desk")},
			links: []LinkInfo{link("a", "phone", 3, 0, 1, 0), link("phone", "b", 3, 0, 1, 0),
				link("a", "desk", 40, 0, 0.5, 0), link("desk", "b", 40, 0, 0.5, 0)},
			to: []string{"b"}, want: "phone",
		},
		{
			name:    "voice: loss outweighs a few ms",
			purpose: VoiceRelay,
			peers:   []PeerInfo{peer("lossy"), peer("clean")},
			links: []LinkInfo{link("a", "lossy", 2, 0, 0, 0.03), link("lossy", "b", 2, 0, 0, 0),
				link("a", "clean", 6, 0, 0, 0), link("clean", "b", 6, 0, 0, 0)},
			to: []string{"b"}, want: "clean",
		},
		{
			name:    "voice: no spare bandwidth loses to a slightly longer path",
			purpose: VoiceRelay,
			peers:   []PeerInfo{peer("busy", spare(100)), peer("idle")},
			links: []LinkInfo{link("a", "busy", 3, 0, 0, 0), link("busy", "b", 3, 0, 0, 0),
				link("a", "idle", 8, 0, 0, 0), link("idle", "b", 8, 0, 0, 0)},
			to: []string{"b"}, want: "idle",
		},
		{
			name:    "chat: lower path RTT",
			purpose: ChatForward,
			peers:   []PeerInfo{peer("far"), peer("near")},
			links: []LinkInfo{link("a", "far", 10, 1, 0, 0), link("far", "b", 10, 1, 0, 0),
				link("a", "near", 4, 1, 0, 0), link("near", "b", 4, 1, 0, 0)},
			to: []string{"b"}, want: "near",
		},
		{
			name:    "chat: low variance beats slightly lower but unstable RTT",
			purpose: ChatForward,
			peers:   []PeerInfo{peer("shaky"), peer("steady")},
			links: []LinkInfo{link("a", "shaky", 10, 8, 0, 0), link("shaky", "b", 10, 8, 0, 0),
				link("a", "steady", 12, 1, 0, 0), link("steady", "b", 12, 1, 0, 0)},
			to: []string{"b"}, want: "steady",
		},
		{
			name:    "mixer: minimal sum of RTTs to all participants",
			purpose: CallMixer,
			peers: []PeerInfo{peer("c", onBattery, wireless), peer("lopsided"), peer("central"),
				peer("a", onBattery, wireless), peer("b", onBattery, wireless)},
			links: []LinkInfo{
				link("lopsided", "a", 1, 0, 0, 0), link("lopsided", "b", 25, 0, 0, 0), link("lopsided", "c", 25, 0, 0, 0),
				link("central", "a", 10, 0, 0, 0), link("central", "b", 10, 0, 0, 0), link("central", "c", 10, 0, 0, 0),
				link("a", "b", 20, 0, 0, 0), link("a", "c", 20, 0, 0, 0), link("b", "c", 20, 0, 0, 0)},
			to: []string{"b", "c"}, want: "central",
		},
		{
			name:    "mixer: a well-placed participant mixes itself",
			purpose: CallMixer,
			peers:   []PeerInfo{peer("c"), peer("far")},
			links: []LinkInfo{link("c", "a", 5, 0, 0, 0), link("c", "b", 5, 0, 0, 0),
				link("far", "a", 8, 0, 0, 0), link("far", "b", 8, 0, 0, 0), link("far", "c", 8, 0, 0, 0)},
			to: []string{"b", "c"}, want: "c",
		},
		{
			name:    "mixer: a loaded CPU loses",
			purpose: CallMixer,
			peers:   []PeerInfo{peer("c", onBattery), peer("hot", cpu(0.9)), peer("cool", cpu(0.1))},
			links: []LinkInfo{link("hot", "a", 5, 0, 0, 0), link("hot", "b", 5, 0, 0, 0), link("hot", "c", 5, 0, 0, 0),
				link("cool", "a", 9, 0, 0, 0), link("cool", "b", 9, 0, 0, 0), link("cool", "c", 9, 0, 0, 0)},
			to: []string{"b", "c"}, want: "cool",
		},
		{
			name:    "bulk: wired mains spare upload beats a closer wireless battery peer",
			purpose: BulkTransfer,
			peers:   []PeerInfo{peer("laptop", onBattery, wireless, spare(20_000)), peer("server", spare(500_000))},
			links: []LinkInfo{link("a", "laptop", 2, 0, 0, 0), link("laptop", "b", 2, 0, 0, 0),
				link("a", "server", 6, 0, 0, 0), link("server", "b", 6, 0, 0, 0)},
			to: []string{"b"}, want: "server",
		},
		{
			name:    "bulk: loss caps TCP throughput",
			purpose: BulkTransfer,
			peers:   []PeerInfo{peer("lossy", spare(500_000)), peer("clean", spare(200_000))},
			links: []LinkInfo{link("a", "lossy", 5, 0, 0, 0.02), link("lossy", "b", 5, 0, 0, 0),
				link("a", "clean", 5, 0, 0, 0), link("clean", "b", 5, 0, 0, 0)},
			to: []string{"b"}, want: "clean",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			peers := append(slices.Clone(ends), tc.peers...)
			// Later entries replace earlier ones with the same ID.
			g := graph(peers, tc.links...)
			r := Rank(g, Request{Purpose: tc.purpose, From: "a", To: tc.to}, DefaultWeights(tc.purpose), nil)
			if len(r) == 0 || r[0].ID != tc.want {
				for _, x := range r {
					t.Logf("%s %.1f %v", x.ID, x.Cost, x.Terms)
				}
				t.Fatalf("best = %v, want %s", ids(r), tc.want)
			}
			for _, x := range r {
				if d := x.Cost - x.Terms.Sum(); d > 1e-9 || d < -1e-9 {
					t.Fatalf("%s: cost %v but terms sum to %v", x.ID, x.Cost, x.Terms.Sum())
				}
			}
		})
	}
}

func TestRankFiltersAndOrders(t *testing.T) {
	g := graph([]PeerInfo{peer("a"), peer("b"), peer("x"), peer("y"), peer("z", offline), peer("w")},
		link("a", "x", 5, 0, 0, 0), link("x", "b", 5, 0, 0, 0),
		link("a", "y", 5, 0, 0, 0), link("y", "b", 5, 0, 0, 0),
		link("a", "w", 1, 0, 0, 0), link("w", "b", 1, 0, 0, 0),
		link("a", "z", 1, 0, 0, 0), link("z", "b", 1, 0, 0, 0))
	w := DefaultWeights(ChatForward)
	got := ids(Rank(g, Request{Purpose: ChatForward, From: "a", To: []string{"b"}}, w, nil))
	if want := []string{"w", "x", "y"}; !slices.Equal(got, want) {
		t.Fatalf("default candidates = %v, want %v (endpoints and offline left out, ties by ID)", got, want)
	}
	got = ids(Rank(g, Request{Purpose: ChatForward, From: "a", To: []string{"b"},
		Candidates: []string{"y", "z", "nobody", "y", "x"}}, w, nil))
	if want := []string{"x", "y"}; !slices.Equal(got, want) {
		t.Fatalf("explicit candidates = %v, want %v", got, want)
	}
}

func TestRankOwnMeasurementsOverridePublished(t *testing.T) {
	g := graph([]PeerInfo{peer("a"), peer("b"), peer("x"), peer("y")},
		link("a", "x", 2, 0, 0, 0), link("x", "b", 2, 0, 0, 0),
		link("a", "y", 5, 0, 0, 0), link("y", "b", 5, 0, 0, 0))
	w := DefaultWeights(ChatForward)
	req := Request{Purpose: ChatForward, From: "a", To: []string{"b"}}
	if r := Rank(g, req, w, nil); r[0].ID != "x" {
		t.Fatalf("published picture: best %s, want x", r[0].ID)
	}
	fresh := g.WithOwn([]LinkInfo{link("x", "a", 30, 0, 0, 0)}) // the link to x got bad
	if r := Rank(fresh, req, w, nil); r[0].ID != "y" {
		t.Fatalf("with own measurement: best %s, want y", r[0].ID)
	}
	if r := Rank(g, req, w, nil); r[0].ID != "x" {
		t.Fatal("WithOwn changed the original graph")
	}
}

func TestRankCombinesBothDirections(t *testing.T) {
	g := graph([]PeerInfo{peer("a"), peer("b"), peer("x")},
		link("a", "x", 4, 1, 0, 0), link("x", "a", 6, 2, 0, 0.01), link("x", "b", 5, 0, 0, 0))
	r := Rank(g, Request{Purpose: ChatForward, From: "a", To: []string{"b"}}, DefaultWeights(ChatForward), nil)
	tm := r[0].Terms
	// The loss is the worse direction's 1 %, shrunk halfway toward what the ends'
	// access shares predict, which with these links is 1 % as well.
	if !near(tm[TermRTTMeasured], 10) || !near(tm[TermRTTVar], 2) || math.Abs(tm[TermLoss]-2) > 0.01 {
		t.Fatalf("terms %v, want rtt 5+5 (mean), rttvar 2 (max), loss 1 %% → 2", tm)
	}
}

// TestRankShrinksMeasuredLossTowardShares: a link's published loss rests on few
// packets, so it counts half, and what both ends' other links say the other half.
func TestRankShrinksMeasuredLossTowardShares(t *testing.T) {
	// a and b lose 1 % on every link to the p peers, and the p peers lose nothing
	// among themselves: the loss is a's and b's access, 1 % each. The a–x link
	// read 0 and the x–b link 1 %.
	peers := []PeerInfo{peer("a"), peer("b"), peer("x")}
	var links []LinkInfo
	for _, p := range []string{"p1", "p2", "p3", "p4", "p5"} {
		peers = append(peers, peer(p))
		links = append(links, link("a", p, 1, 0, 0, 0.01), link("b", p, 1, 0, 0, 0.01))
		for _, q := range []string{"p1", "p2", "p3", "p4", "p5"} {
			if p < q {
				links = append(links, link(p, q, 1, 0, 0, 0))
			}
		}
	}
	links = append(links, link("a", "x", 1, 0, 0, 0), link("x", "b", 1, 0, 0, 0.01))
	r := Rank(graph(peers, links...), Request{Purpose: ChatForward, From: "a", To: []string{"b"}, Candidates: []string{"x"}},
		Weights{LossMs: 1}, nil)
	// x's own share is 0 (its links less a's and b's shares are −1 % and 0,
	// floored at 0), so each leg is predicted at 1 %: a–x 0 → ½ %, x–b stays 1 %;
	// 1½ % in all, against 1 % unshrunk.
	if got := r[0].Terms[TermLoss]; math.Abs(got-1.5) > 0.01 {
		t.Fatalf("loss term %.3f, want 1.5 (each leg halfway to its ends' shares)", got)
	}
}

func TestRankFallsBackToVivaldi(t *testing.T) {
	g := graph([]PeerInfo{peer("a", at(0, 0, 1)), peer("b", at(20, 0, 1)),
		peer("mid", at(10, 0, 1)), peer("side", at(10, 30, 1)), peer("blind")},
		link("a", "mid", 12, 0, 0, 0))
	r := Rank(g, Request{Purpose: ChatForward, From: "a", To: []string{"b"}}, DefaultWeights(ChatForward), nil)
	if got := ids(r); !slices.Equal(got, []string{"mid", "side", "blind"}) {
		for _, x := range r {
			t.Logf("%s %.1f %v", x.ID, x.Cost, x.Terms)
		}
		t.Fatalf("order %v, want mid, side, blind", got)
	}
	mid := r[0]
	if mid.Terms[TermRTTMeasured] != 12 || mid.Terms[TermRTTEstimated] != 12 || mid.Estimated != 1 {
		t.Fatalf("mid: %v estimated=%d, want 12 measured + 12 estimated (10 apart + heights)", mid.Terms, mid.Estimated)
	}
	if mid.Terms[TermUncertainty] == 0 {
		t.Fatal("an estimated leg carries no uncertainty")
	}
	blind := r[2]
	if blind.Unknown != 2 || blind.Terms[TermRTTUnknown] != 2*UnknownRTTMs {
		t.Fatalf("blind: %v unknown=%d, want two unknown legs", blind.Terms, blind.Unknown)
	}
	if !strings.Contains(blind.Terms.String(), "rtt_unknown=100.0") {
		t.Fatalf("Terms.String() = %q", blind.Terms.String())
	}
}

func TestRankEstimatesLossOfUnmeasuredLegs(t *testing.T) {
	// "leaky" loses 3 % on every link it measured; "tight" loses nothing. Neither
	// measured a link to a or b, so their legs are estimated: the leaky one's access
	// share of loss must show up anyway.
	peers := []PeerInfo{peer("a", at(0, 0, 1)), peer("b", at(10, 0, 1)),
		peer("leaky", at(5, 1, 1)), peer("tight", at(5, 2, 1)), peer("n1"), peer("n2"), peer("n3")}
	var links []LinkInfo
	for _, n := range []string{"n1", "n2", "n3"} {
		links = append(links, link("leaky", n, 5, 0, 0, 0.03), link("tight", n, 5, 0, 0, 0))
	}
	links = append(links, link("n1", "n2", 1, 0, 0, 0), link("n2", "n3", 1, 0, 0, 0))
	g := graph(peers, links...)
	r := Rank(g, Request{Purpose: VoiceRelay, From: "a", To: []string{"b"}, Candidates: []string{"leaky", "tight"}},
		DefaultWeights(VoiceRelay), nil)
	if r[0].ID != "tight" || r[1].Terms[TermLoss] < 40 {
		t.Fatalf("ranking %v, leaky loss term %.1f; want tight first and ≈ 2 × 3 %% × 10", ids(r), r[1].Terms[TermLoss])
	}
}

func TestRankFloorsEstimatesAtTypicalPaths(t *testing.T) {
	// Every measured path is 10 ms, so every peer's access share of RTT is 5 ms;
	// x's and b's coordinates put them 2 ms apart, which no measured path comes near.
	// The estimate is lifted to 1.2 × (5 + 5) = 12 ms. Without links of its own a
	// peer has no share, and its coordinate estimate stands.
	peers := []PeerInfo{peer("a", at(0, 0, 0.5)), peer("b", at(1, 0, 0.5)),
		peer("x", at(2, 0, 0.5)), peer("loner", at(5, 0, 0.5))}
	ns := []string{"n1", "n2", "n3"}
	var links []LinkInfo
	for i, n := range ns {
		peers = append(peers, peer(n))
		links = append(links, link("a", n, 10, 0, 0, 0), link("b", n, 10, 0, 0, 0), link("x", n, 10, 0, 0, 0))
		for _, m := range ns[i+1:] {
			links = append(links, link(n, m, 10, 0, 0, 0))
		}
	}
	links = append(links, link("a", "x", 10, 0, 0, 0))
	r := Rank(graph(peers, links...), Request{Purpose: ChatForward, From: "a", To: []string{"b"}, Candidates: []string{"x", "loner"}},
		Weights{RTT: 1}, nil)
	byID := map[string]Ranked{}
	for _, x := range r {
		byID[x.ID] = x
	}
	if got := byID["x"].Terms[TermRTTEstimated]; math.Abs(got-12) > 1e-9 {
		t.Errorf("x–b estimated at %.2f ms, want the floor, 12", got)
	}
	// loner measured nothing: a–loner 5 + 1, loner–b 4 + 1 from coordinates alone.
	if got := byID["loner"].Terms[TermRTTEstimated]; math.Abs(got-11) > 1e-9 {
		t.Errorf("loner's legs estimated at %.2f ms, want the coordinates' 11", got)
	}
}

func TestRankAddsCostMap(t *testing.T) {
	g := graph([]PeerInfo{peer("a", addr("10.0.1.10")), peer("b", addr("10.0.2.10")),
		peer("guest", addr("10.0.9.5")), peer("office", addr("10.0.1.20"))},
		link("a", "guest", 2, 0, 0, 0), link("guest", "b", 2, 0, 0, 0),
		link("a", "office", 5, 0, 0, 0), link("office", "b", 5, 0, 0, 0))
	cm, err := ParseCostMap(strings.NewReader("10.0.9.0/24 0.0.0.0/0 100\n10.0.1.0/24 10.0.2.0/24 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Purpose: VoiceRelay, From: "a", To: []string{"b"}}
	w := DefaultWeights(VoiceRelay)
	if r := Rank(g, req, w, nil); r[0].ID != "guest" {
		t.Fatalf("without the map: best %s, want guest", r[0].ID)
	}
	r := Rank(g, req, w, cm)
	if r[0].ID != "office" {
		t.Fatalf("with the map: best %s, want office", r[0].ID)
	}
	if got := r[0].Terms[TermCostMap]; got != 3 { // a–office same /24: no entry; office–b: 3
		t.Fatalf("office costmap term = %v, want 3", got)
	}
	if got := r[1].Terms[TermCostMap]; got != 200 {
		t.Fatalf("guest costmap term = %v, want 200", got)
	}
}

func TestRankIsDeterministic(t *testing.T) {
	var peers []PeerInfo
	var links []LinkInfo
	for i := range 30 {
		id := string(rune('A' + i))
		peers = append(peers, peer(id, at(float64(i%5), float64(i/5), 1)))
		links = append(links, link(id, string(rune('A'+(i+1)%30)), 3, 1, 1, 0.001))
	}
	g := graph(peers, links...)
	req := Request{Purpose: VoiceRelay, From: "A", To: []string{"Q"}}
	first := Rank(g, req, DefaultWeights(VoiceRelay), nil)
	for range 5 {
		g2 := graph(peers, links...)
		if again := Rank(g2, req, DefaultWeights(VoiceRelay), nil); !slices.Equal(ids(again), ids(first)) {
			t.Fatalf("ranking changed between runs: %v vs %v", ids(again), ids(first))
		}
	}
}

func TestEdgeCost(t *testing.T) {
	l := link("a", "b", 10, 2, 3, 0.01)
	if got := EdgeCost(ChatForward, l); !near(got, 10+2+2) {
		t.Fatalf("chat edge cost = %v, want 14", got)
	}
	if got := EdgeCost(VoiceRelay, l); !near(got, 10+6+10) {
		t.Fatalf("voice edge cost = %v, want 26", got)
	}
	if got := EdgeCost(ChatForward, LinkInfo{RTT: -5}); got != 0 {
		t.Fatalf("negative RTT edge cost = %v, want 0", got)
	}
}

func TestPurposeNames(t *testing.T) {
	for _, p := range Purposes() {
		got, err := ParsePurpose(strings.ToUpper(p.String()))
		if err != nil || got != p {
			t.Fatalf("ParsePurpose(%q) = %v, %v", p, got, err)
		}
	}
	if _, err := ParsePurpose("carrier pigeon"); err == nil {
		t.Fatal("unknown purpose parsed")
	}
}

// A relay on the requester's own Wi-Fi access point costs that air again: of two
// candidates measured alike, the one on the requester's cell ranks last, by the
// ends' access shares; with the cell unknown (0) nothing changes.
func TestSharedAirPenalty(t *testing.T) {
	onCell := func(c uint64) func(*PeerInfo) { return func(p *PeerInfo) { p.Cell = c } }
	rank := func(cell uint64) []Ranked {
		peers := []PeerInfo{
			peer("a", wireless, onCell(cell)), peer("b"),
			peer("r1", wireless, onCell(cell)), peer("r2", wireless, onCell(cell+1)),
			peer("x"),
		}
		g := graph(peers,
			link("a", "r1", 4, 1, 1, 0.01), link("a", "r2", 4, 1, 1, 0.01),
			link("b", "r1", 4, 1, 1, 0.01), link("b", "r2", 4, 1, 1, 0.01),
			link("a", "x", 5, 1, 1, 0.01), link("r1", "x", 5, 1, 1, 0.01), link("r2", "x", 5, 1, 1, 0.01))
		return Rank(g, Request{Purpose: VoiceRelay, From: "a", To: []string{"b"}, Candidates: []string{"r1", "r2"}},
			DefaultWeights(VoiceRelay), nil)
	}
	same := rank(7)
	if got := ids(same); !slices.Equal(got, []string{"r2", "r1"}) || same[1].SharedAir != 1 || same[0].SharedAir != 0 {
		t.Fatalf("with a shared cell: %v (shared air %d, %d)", got, same[0].SharedAir, same[1].SharedAir)
	}
	if same[1].Cost <= same[0].Cost+1 {
		t.Fatalf("shared air costs %.2f against %.2f", same[1].Cost, same[0].Cost)
	}
	if unknown := rank(0); !near(unknown[0].Cost, unknown[1].Cost) || unknown[0].SharedAir+unknown[1].SharedAir != 0 {
		t.Fatalf("unknown cells: %+v", unknown)
	}
}

// TestReputationPenalty: of two otherwise equal relays, the one this node saw fail
// ranks second, by W.Failure per failure, under its own term; with no failures
// the two tie.
func TestReputationPenalty(t *testing.T) {
	rank := func(failures float32) []Ranked {
		peers := []PeerInfo{peer("a"), peer("b"), peer("r1", func(p *PeerInfo) { p.Failures = failures }), peer("r2")}
		g := graph(peers,
			link("a", "r1", 4, 1, 1, 0.01), link("a", "r2", 4, 1, 1, 0.01),
			link("b", "r1", 4, 1, 1, 0.01), link("b", "r2", 4, 1, 1, 0.01))
		return Rank(g, Request{Purpose: VoiceRelay, From: "a", To: []string{"b"}, Candidates: []string{"r1", "r2"}},
			DefaultWeights(VoiceRelay), nil)
	}
	clean := rank(0)
	if !near(clean[0].Cost, clean[1].Cost) || clean[0].ID != "r1" {
		t.Fatalf("no failures: %+v, want a tie broken by ID", clean)
	}
	failed := rank(1.5)
	if got := ids(failed); !slices.Equal(got, []string{"r2", "r1"}) {
		t.Fatalf("r1 failed: order %v, want r2 first", got)
	}
	w := DefaultWeights(VoiceRelay).Failure
	if !near(failed[1].Terms[TermReputation], 1.5*w) || !near(failed[1].Cost-failed[0].Cost, 1.5*w) {
		t.Fatalf("r1's reputation term %.2f, gap %.2f; want %.2f", failed[1].Terms[TermReputation], failed[1].Cost-failed[0].Cost, 1.5*w)
	}
	if failed[1].Terms.Map()["reputation"] == 0 {
		t.Fatalf("the term is not named reputation: %v", failed[1].Terms.Map())
	}
}

// A candidate's published sessions that are the requester's own are not load
// against it: r1 carries the requester's call and one other, r2 one other; with
// Own, both cost the same load and r1 keeps its place on RTT.
func TestRankOwnSessionsAreNotLoad(t *testing.T) {
	sessions := func(n uint16) func(*PeerInfo) { return func(p *PeerInfo) { p.RelaySessions = n } }
	g := graph([]PeerInfo{peer("a"), peer("c"), peer("r1", sessions(2)), peer("r2", sessions(1))},
		link("a", "r1", 1, 0, 0, 0), link("r1", "c", 1, 0, 0, 0),
		link("a", "r2", 1.5, 0, 0, 0), link("r2", "c", 1.5, 0, 0, 0))
	w := DefaultWeights(VoiceRelay)
	req := Request{Purpose: VoiceRelay, From: "a", To: []string{"c"}}
	if got := ids(Rank(g, req, w, nil)); got[0] != "r2" {
		t.Fatalf("without Own: %v, want r2 first (r1 pays for the requester's session)", got)
	}
	req.Own = map[string]int{"r1": 1}
	r := Rank(g, req, w, nil)
	if r[0].ID != "r1" || r[0].Terms[TermLoad] != w.PerSession || r[1].Terms[TermLoad] != w.PerSession {
		t.Fatalf("with Own: %v, loads %v %v, want r1 first, both at %v", ids(r), r[0].Terms[TermLoad], r[1].Terms[TermLoad], w.PerSession)
	}
	req.Own = map[string]int{"r1": 5} // more than it published: clamped at none
	if r := Rank(g, req, w, nil); r[0].ID != "r1" || r[0].Terms[TermLoad] != 0 {
		t.Fatalf("Own over published: %v, r1 load %v, want 0", ids(r), r[0].Terms[TermLoad])
	}
	if g.Peers["r1"].RelaySessions != 2 {
		t.Fatal("Rank changed the graph")
	}
}
