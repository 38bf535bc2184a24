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
		{"cpu +0.1", func(m *SelfMetrics) { m.CPULoad = 0.5 }, false},
		{"cpu +0.3", func(m *SelfMetrics) { m.CPULoad = 0.7 }, true},
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
