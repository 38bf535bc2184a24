package linkquality

import (
	"context"
	"math"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
	"parley/internal/sysinfo"
	"parley/overlay"
	"parley/selection"
	"parley/vivaldi"
)

// fakeOverlay is an overlay of fixed links whose probes return fixed rates.
type fakeOverlay struct {
	mu      sync.Mutex
	links   []overlay.LinkInfo
	rate    map[identity.PeerID]float64 // probe result; absent = times out
	probes  map[identity.PeerID][]time.Time
	records map[identity.PeerID]*overlay.Record
	all     []*overlay.Record // what Records returns
	sent    []sentFrame       // SendTo's frames
}

type sentFrame struct {
	to      identity.PeerID
	typ     uint8
	payload []byte
}

func (f *fakeOverlay) SendTo(dst identity.PeerID, typ uint8, payload []byte) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentFrame{dst, typ, slices.Clone(payload)})
	return false, nil
}

func (f *fakeOverlay) Links() []overlay.LinkInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]overlay.LinkInfo(nil), f.links...)
}

func (f *fakeOverlay) ProbeCapacity(ctx context.Context, peer identity.PeerID) (float64, error) {
	f.mu.Lock()
	f.probes[peer] = append(f.probes[peer], time.Now())
	bps, ok := f.rate[peer]
	f.mu.Unlock()
	if !ok {
		<-ctx.Done() // the burst never gets through
		return 0, overlay.ErrProbeTimeout
	}
	return bps, nil
}

func (f *fakeOverlay) probesOf(peer identity.PeerID) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.probes[peer]...)
}

func (f *fakeOverlay) RecordOf(peer identity.PeerID) *overlay.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.records[peer]
}

func (f *fakeOverlay) Records() []*overlay.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.all)
}

func (f *fakeOverlay) Online(identity.PeerID) bool { return true }
func (f *fakeOverlay) AdvertisedAddrs() []netip.AddrPort {
	return []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:48555")}
}

// fakeMachine is a battery-powered machine on Wi-Fi whose CPU is busy 25 % of
// the time between two readings.
type fakeMachine struct {
	mu          sync.Mutex
	total, idle uint64
	ifaceReads  int
}

func (m *fakeMachine) PowerSource() sysinfo.Power { return sysinfo.PowerBattery }

func (m *fakeMachine) LinkTypeOf(iface string) sysinfo.LinkType {
	if iface == "wlan0" {
		return sysinfo.LinkWireless
	}
	return sysinfo.LinkWired
}

func (m *fakeMachine) CPUTimes() (total, idle uint64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.total, m.idle = m.total+100, m.idle+75
	return m.total, m.idle, true
}

func (m *fakeMachine) BSSID(iface string) ([6]byte, bool) {
	return [6]byte{2, 0, 0, 0, 0, 1}, iface == "wlan0"
}

func (m *fakeMachine) InterfacesWith([]netip.AddrPort) []string {
	m.mu.Lock()
	m.ifaceReads++
	m.mu.Unlock()
	return []string{"eth0", "wlan0"}
}

func peer(b byte) identity.PeerID {
	var id identity.PeerID
	id[0], id[15] = b, 1
	return id
}

// newFake returns a monitor over two links that came up now: a probe of fast
// gets 10 Mbit/s through, one of slow times out.
func newFake(t *testing.T, cfg Config) (*Monitor, *fakeOverlay, *fakeMachine, *atomic.Int32) {
	t.Helper()
	fast, slow := peer(1), peer(2)
	now := time.Now()
	ov := &fakeOverlay{
		links: []overlay.LinkInfo{
			{Peer: fast, Since: now, Quality: overlay.Quality{SRTT: time.Millisecond, TxBps: 125_000, RxBps: 25_000}},
			{Peer: slow, Since: now, Quality: overlay.Quality{SRTT: 3 * time.Millisecond}},
		},
		rate:    map[identity.PeerID]float64{fast: 10e6},
		probes:  map[identity.PeerID][]time.Time{},
		records: map[identity.PeerID]*overlay.Record{},
	}
	m := &fakeMachine{}
	published := new(atomic.Int32)
	cfg.Self, cfg.Overlay, cfg.Machine = peer(9), ov, m
	cfg.Republish = func() error { published.Add(1); return nil }
	return New(cfg), ov, m, published
}

func decodeExt(t *testing.T, q *Monitor) selection.SelfMetrics {
	t.Helper()
	m, err := selection.DecodeSelf(q.Extension().Value)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A running monitor probes each new link once it has been up 2 s, again only
// after ProbeInterval, and publishes what the machine and the probes say: power
// and medium as read, CPU load between two readings, spare bandwidth from the
// fastest probed link minus what the links carry (a probe that timed out counts
// as 52 kbit/s, slower than the fast link, so it changes nothing here).
func TestMonitorProbesAndPublishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, ov, _, published := newFake(t, Config{ProbeInterval: time.Minute})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { q.Run(ctx); close(done) }()
		start := time.Now()

		time.Sleep(1500 * time.Millisecond)
		if n := len(ov.probesOf(peer(1))); n != 0 {
			t.Fatalf("%d probes of a link up for 1.5 s", n)
		}
		time.Sleep(90 * time.Second)
		fast, slow := ov.probesOf(peer(1)), ov.probesOf(peer(2))
		if len(fast) != 2 || len(slow) != 2 {
			t.Fatalf("probes in 91.5 s: fast %d, slow %d; want 2 each", len(fast), len(slow))
		}
		if first := fast[0].Sub(start); first < probeSettle || first > probeSettle+time.Second {
			t.Fatalf("first probe %v after the link came up, want 2–3 s", first)
		}
		if gap := fast[1].Sub(fast[0]); gap < time.Minute || gap > time.Minute+probeTimeout+time.Second {
			t.Fatalf("probes %v apart, want ProbeInterval (1 min) plus the slow link's timeout at most", gap)
		}
		if published.Load() == 0 {
			t.Fatal("nothing published")
		}
		m := decodeExt(t, q)
		if m.Power != selection.Battery || m.LinkType != selection.Wireless {
			t.Fatalf("power %v, medium %v; want battery, wireless", m.Power, m.LinkType)
		}
		if math.Abs(float64(m.CPULoad)-0.25) > 1.0/255 { // published in 1/255ths
			t.Fatalf("CPU load %v, want 0.25", m.CPULoad)
		}
		// 10 Mbit/s probed up minus 1 Mbit/s carried; nothing probed down, so the
		// link is taken as symmetric.
		if m.SpareUpKbps != 9000 || m.SpareDownKbps != 9000 {
			t.Fatalf("spare %d/%d kbit/s, want 9000/9000", m.SpareUpKbps, m.SpareDownKbps)
		}
		// A peer's probe of us measures the way down. It is a reading like any
		// other: folded in at the next 5 s reading, and, being clearly worse than
		// the estimate, with gain 1/2 (selection.SelfEstimator).
		q.OnProbeSeen(peer(2), 4e6)
		time.Sleep(selfReadEvery)
		q.Publish()
		if got := q.Graph().Peers[peer(9).String()]; got.SpareUpKbps != 9000 || got.SpareDownKbps != 6400 {
			t.Fatalf("own spare after a probe of us %d/%d kbit/s, want 9000/6400 (half way to 3800)", got.SpareUpKbps, got.SpareDownKbps)
		}
		cancel()
		<-done
	})
}

// A probe that does not get through in probeTimeout is read as the rate the
// bounded burst would have needed: the link is slow, not unknown.
func TestProbeTimeoutCountsAsSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, ov, _, _ := newFake(t, Config{})
		ov.links = ov.links[1:] // the slow link only
		time.Sleep(probeSettle)
		q.probeDue(t.Context())
		q.Publish()
		if m := decodeExt(t, q); m.SpareUpKbps != 52 || m.SpareDownKbps != 52 {
			t.Fatalf("spare %d/%d kbit/s after a timed-out probe, want 52 (64 KiB in 10 s)", m.SpareUpKbps, m.SpareDownKbps)
		}
	})
}

// --power overrides what the machine says.
func TestPowerOverride(t *testing.T) {
	q, _, _, _ := newFake(t, Config{Power: sysinfo.PowerMains})
	q.Publish()
	if m := decodeExt(t, q); m.Power != selection.Mains {
		t.Fatalf("power %v with --power mains", m.Power)
	}
}

// The interface table is read at most every linkTypeEvery, however often the
// node measures.
func TestLinkMediumReadEvery30s(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, _, m, _ := newFake(t, Config{})
		for range 65 {
			q.Publish()
			time.Sleep(time.Second)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.ifaceReads != 3 {
			t.Fatalf("interface table read %d times in 65 s, want 3 (at 0, 30 and 60 s)", m.ifaceReads)
		}
	})
}

// An RTT sample moves this node's coordinate only toward a peer that published a
// valid one; every sample feeds the link's published estimate.
func TestRTTMovesCoordOnlyWithPeerCoord(t *testing.T) {
	q, ov, _, _ := newFake(t, Config{})
	before := q.Coord()
	q.OnRTT(peer(1), 20*time.Millisecond)
	if q.Coord() != before {
		t.Fatal("coordinate moved without the peer's coordinate")
	}
	b, err := selection.EncodeSelf(selection.SelfMetrics{Coord: vivaldi.Coord{X: 5, Height: vivaldi.MinHeight, Error: 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	ov.records[peer(1)] = &overlay.Record{Extensions: []overlay.Extension{{Type: selection.ExtensionType, Value: b}}}
	for range 5 {
		q.OnRTT(peer(1), 20*time.Millisecond)
	}
	if q.Coord() == before {
		t.Fatal("coordinate did not move toward a peer that published one")
	}
	q.Publish()
	for _, l := range decodeExt(t, q).Links {
		if l.Peer == peer(1) && l.RTT < 19*time.Millisecond {
			t.Fatalf("link RTT published as %v after 20 ms samples", l.RTT)
		}
	}
}

// What a node publishes about itself goes through selection.SelfEstimator, one
// reading per selfReadEvery, as the simulator's peers do: however often a ranking
// asks for fresh figures, a better reading creeps in at 1/8 per reading and a
// clearly worse one lands half way at once. Before any probe the spare bandwidth
// stays unknown (0) rather than being averaged in as none.
func TestSelfReadingsSmoothed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, ov, _, _ := newFake(t, Config{})
		ov.links = ov.links[:1] // the fast link only: 10 Mbit/s probed, 1 Mbit/s carried
		q.Publish()
		if got := q.Graph().Peers[peer(9).String()]; got.SpareUpKbps != 0 || got.SpareDownKbps != 0 {
			t.Fatalf("spare %d/%d before any probe, want 0/0 (unknown)", got.SpareUpKbps, got.SpareDownKbps)
		}
		time.Sleep(probeSettle)
		q.probeDue(t.Context())
		spare := func() uint32 {
			t.Helper()
			q.Publish()
			return q.Graph().Peers[peer(9).String()].SpareUpKbps
		}
		for range 8 { // the first readings count 1/n: a constant reading is exact
			if got := spare(); got != 9000 {
				t.Fatalf("spare %d after a first probe, want 9000", got)
			}
			time.Sleep(selfReadEvery)
		}
		// The link gets busy: 5 Mbit/s carried, so 5000 spare, clearly worse.
		ov.links[0].Quality.TxBps = 625_000
		if got := spare(); got != 7000 {
			t.Fatalf("spare %d one reading after it fell to 5000, want 7000 (gain 1/2)", got)
		}
		// Rankings asking again within the 5 s read the same estimate.
		for range 10 {
			if got := spare(); got != 7000 {
				t.Fatalf("spare %d on a second ask within %v, want 7000 unchanged", got, selfReadEvery)
			}
		}
		// Idle again: 9000 is better, folded at 1/8 per reading.
		ov.links[0].Quality.TxBps = 125_000
		time.Sleep(selfReadEvery)
		if got := spare(); got != 7250 {
			t.Fatalf("spare %d one reading after recovering, want 7250 (gain 1/8)", got)
		}
	})
}
