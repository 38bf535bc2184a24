package selection

import (
	"slices"
	"testing"
	"time"

	"parley/vivaldi"
)

func TestMaterialChange(t *testing.T) {
	cases := []struct {
		name string
		mut  func(*SelfMetrics)
		want bool
	}{
		{"identical", func(*SelfMetrics) {}, false},
		{"power", func(m *SelfMetrics) { m.Power = Mains }, true},
		{"link type", func(m *SelfMetrics) { m.LinkType = Wired }, true},
		{"link added", func(m *SelfMetrics) { m.Links = append(m.Links, LinkMetric{Peer: pid(9)}) }, true},
		{"link replaced", func(m *SelfMetrics) { m.Links[1].Peer = pid(9) }, true},
		{"links reordered", func(m *SelfMetrics) { m.Links[0], m.Links[1] = m.Links[1], m.Links[0] }, false},
		{"links reordered, one changed", func(m *SelfMetrics) {
			m.Links[0], m.Links[1] = m.Links[1], m.Links[0]
			m.Links[1].Loss += 0.02
		}, true},
		{"RTT +30 % but 1.3 ms", func(m *SelfMetrics) { m.Links[0].RTT = 5460 * time.Microsecond }, false},
		{"RTT +60 % = 2.5 ms", func(m *SelfMetrics) { m.Links[0].RTT = 6700 * time.Microsecond }, true},
		{"jitter +2.5 ms (> 50 %)", func(m *SelfMetrics) { m.Links[0].Jitter = 3600 * time.Microsecond }, false},
		{"jitter +3.5 ms (> 50 %)", func(m *SelfMetrics) { m.Links[0].Jitter = 4600 * time.Microsecond }, true},
		{"loss +0.5 pp", func(m *SelfMetrics) { m.Links[0].Loss += 0.005 }, false},
		{"loss +1.5 pp", func(m *SelfMetrics) { m.Links[0].Loss += 0.015 }, true},
		{"spare up −20 %", func(m *SelfMetrics) { m.SpareUpKbps = 16_000 }, false},
		{"spare down −30 %", func(m *SelfMetrics) { m.SpareDownKbps = 56_000 }, true},
		{"one more session", func(m *SelfMetrics) { m.RelaySessions = 3 }, false},
		{"two more sessions", func(m *SelfMetrics) { m.RelaySessions = 4 }, true},
		{"sessions to zero", func(m *SelfMetrics) { m.RelaySessions = 0 }, true},
		{"relay kbps +50 % but 256", func(m *SelfMetrics) { m.RelayKbps = 768 }, false},
		{"relay kbps ×3", func(m *SelfMetrics) { m.RelayKbps = 1536 }, true},
		{"cpu 0.40 to 0.44", func(m *SelfMetrics) { m.CPULoad = 0.44 }, false},
		{"cpu 0.40 to 0.50", func(m *SelfMetrics) { m.CPULoad = 0.5 }, true},
		{"cpu 0.40 to 0.70", func(m *SelfMetrics) { m.CPULoad = 0.7 }, true},
		{"coord moved 3 ms", func(m *SelfMetrics) { m.Coord.X += 3 }, false},
		{"coord moved 4+2 ms", func(m *SelfMetrics) { m.Coord.X += 4; m.Coord.Height += 2 }, true},
	}
	for _, tc := range cases {
		old := sampleSelf()
		cur := sampleSelf()
		cur.Links = slices.Clone(cur.Links)
		tc.mut(&cur)
		if got := MaterialChange(old, cur); got != tc.want {
			t.Errorf("%s: MaterialChange = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestMaterialCPUFollowsItsCost checks that CPU changes count by what they do
// to ρ/(1−ρ): small near idle, large near saturation.
func TestMaterialCPUFollowsItsCost(t *testing.T) {
	cases := []struct {
		from, to float32
		want     bool
	}{
		{0.10, 0.20, false}, // 0.11 → 0.25
		{0.10, 0.30, true},  // 0.11 → 0.43
		{0.84, 0.90, true},  // 5.3 → 9: the change an absolute 0.15 threshold missed
		{0.90, 0.84, true},
		{0.90, 0.91, false}, // 9 → 10.1: +12 %
		{0.95, 0.99, false}, // both capped at 0.95
		{0.50, 0.55, false}, // 1 → 1.22: +22 %
	}
	for _, tc := range cases {
		old, cur := sampleSelf(), sampleSelf()
		old.CPULoad, cur.CPULoad = tc.from, tc.to
		if got := MaterialChange(old, cur); got != tc.want {
			t.Errorf("cpu %.2f to %.2f: MaterialChange = %v, want %v (load factor %.2f to %.2f)",
				tc.from, tc.to, got, tc.want, loadFactor(tc.from), loadFactor(tc.to))
		}
	}
}

func TestMaterialRTTNeedsBothThresholds(t *testing.T) {
	old, cur := sampleSelf(), sampleSelf()
	cur.Links = slices.Clone(cur.Links)
	old.Links[0].RTT = 27500 * time.Microsecond
	cur.Links[0].RTT = 30 * time.Millisecond // +2.5 ms but only +9 %
	if MaterialChange(old, cur) {
		t.Fatal("a 9 % RTT change counted as material")
	}
}

func TestPublisherRateLimits(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	p := NewPublisher()
	m := sampleSelf()
	moved := func(dx float64) SelfMetrics {
		c := m
		c.Coord = vivaldi.Coord{X: m.Coord.X + dx, Y: m.Coord.Y, Height: m.Coord.Height, Error: m.Coord.Error}
		return c
	}
	steps := []struct {
		at   time.Duration
		m    SelfMetrics
		want bool
	}{
		{0, m, true},                                       // first offer
		{5 * time.Second, m, false},                        // nothing changed
		{10 * time.Second, moved(20), false},               // material, but within MinInterval
		{31 * time.Second, moved(20), true},                // now due, compared with the last published
		{40 * time.Second, moved(21), false},               // 1 ms from the published one
		{5 * time.Minute, moved(22), false},                // drift below threshold...
		{10*time.Minute + 31*time.Second, moved(23), true}, // ...republished at MaxInterval
	}
	for i, s := range steps {
		if got := p.Offer(t0.Add(s.at), s.m); got != s.want {
			t.Fatalf("step %d at %v: Offer = %v, want %v", i, s.at, got, s.want)
		}
	}
}

func TestWorsened(t *testing.T) {
	cases := []struct {
		name string
		mut  func(old, cur *SelfMetrics)
		want bool
	}{
		{"identical", func(_, _ *SelfMetrics) {}, false},
		{"mains to battery", func(o, c *SelfMetrics) { o.Power, c.Power = Mains, Battery }, true},
		{"battery to mains", func(o, c *SelfMetrics) { o.Power, c.Power = Battery, Mains }, false},
		{"unknown to battery", func(o, c *SelfMetrics) { o.Power, c.Power = PowerUnknown, Battery }, true},
		{"cpu 0.1 to 0.3 (doubled, +0.3)", func(o, c *SelfMetrics) { o.CPULoad, c.CPULoad = 0.1, 0.3 }, false},
		{"cpu 0.3 to 0.7 (0.43 to 2.3)", func(o, c *SelfMetrics) { o.CPULoad, c.CPULoad = 0.3, 0.7 }, true},
		{"cpu 0.7 to 0.8 (2.3 to 4: +1.7 but < ×2)", func(o, c *SelfMetrics) { o.CPULoad, c.CPULoad = 0.7, 0.8 }, false},
		{"cpu 0.7 to 0.3", func(o, c *SelfMetrics) { o.CPULoad, c.CPULoad = 0.7, 0.3 }, false},
		{"spare up halved", func(o, c *SelfMetrics) { c.SpareUpKbps = o.SpareUpKbps/2 - 1 }, true},
		{"spare down −40 %", func(o, c *SelfMetrics) { c.SpareDownKbps = o.SpareDownKbps * 6 / 10 }, false},
		{"spare doubled", func(o, c *SelfMetrics) { c.SpareUpKbps = 2 * o.SpareUpKbps }, false},
		{"two more sessions", func(o, c *SelfMetrics) { c.RelaySessions = o.RelaySessions + 2 }, true},
		{"one more session", func(o, c *SelfMetrics) { c.RelaySessions = o.RelaySessions + 1 }, false},
		{"loss up 5 pp", func(_, c *SelfMetrics) { c.Links[0].Loss += 0.05 }, false},
	}
	for _, tc := range cases {
		old, cur := sampleSelf(), sampleSelf()
		cur.Links = slices.Clone(cur.Links)
		tc.mut(&old, &cur)
		if got := Worsened(old, cur); got != tc.want {
			t.Errorf("%s: Worsened = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestPublisherSendsWorseningEarly: a record saying the peer got much worse goes
// out UrgentInterval after the last one, not MinInterval; an improvement waits.
func TestPublisherSendsWorseningEarly(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	p := NewPublisher()
	m := sampleSelf()
	m.CPULoad = 0.2
	busy, idle := m, m
	busy.CPULoad, idle.CPULoad = 0.9, 0.02
	steps := []struct {
		at   time.Duration
		m    SelfMetrics
		want bool
	}{
		{0, m, true},
		{3 * time.Second, busy, false},  // worse, but within UrgentInterval
		{5 * time.Second, busy, true},   // urgent: sent before MinInterval
		{12 * time.Second, idle, false}, // better: waits for MinInterval
		{34 * time.Second, idle, false},
		{35 * time.Second, idle, true},
	}
	for i, s := range steps {
		if got := p.Offer(t0.Add(s.at), s.m); got != s.want {
			t.Fatalf("step %d at %v: Offer = %v, want %v", i, s.at, got, s.want)
		}
	}
}
