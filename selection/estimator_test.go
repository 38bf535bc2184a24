package selection

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestLinkEstimatorConverges(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var e LinkEstimator
	// 5 ms ± uniform 2 ms: mean 5, mean |X−μ| = 1, mean |X1−X2| = 4/3.
	for range 5000 {
		e.AddRTT(ms(3 + 4*rnd.Float64()))
		lost := 0
		if rnd.Float64() < 0.5 {
			lost = 1 // 1 of 50 half the time: 1 % loss
		}
		e.AddLoss(lost, 50)
	}
	m := e.Metric(pid(1))
	check := func(name string, got time.Duration, want, tol float64) {
		if g := durMs(got); math.Abs(g-want) > tol {
			t.Errorf("%s = %.3f ms, want %.3f ± %.2f", name, g, want, tol)
		}
	}
	check("RTT", m.RTT, 5, 0.3)
	check("RTTVar", m.RTTVar, 1, 0.2)
	check("Jitter", m.Jitter, 4.0/3, 0.25)
	check("SRTT", e.SRTT(), 5, 1)
	if math.Abs(float64(m.Loss)-0.01) > 0.004 {
		t.Errorf("loss = %.4f, want 0.01", m.Loss)
	}
	if e.Samples() != 5000 {
		t.Errorf("Samples = %d", e.Samples())
	}
}

func TestLinkEstimatorStartsUnbiasedAndIgnoresJunk(t *testing.T) {
	var e LinkEstimator
	e.AddRTT(0)
	e.AddRTT(-time.Second)
	e.AddLoss(1, 0)
	if e.Samples() != 0 || e.Metric(pid(1)).Loss != 0 {
		t.Fatal("junk input was counted")
	}
	e.AddRTT(ms(10))
	e.AddRTT(ms(20))
	if got := e.Metric(pid(1)).RTT; got != ms(15) {
		t.Fatalf("mean of the first two samples = %v, want 15ms", got)
	}
	if e.SRTT() != ms(11.25) || e.RTTVar() != ms(6.25) {
		t.Fatalf("RFC 6298 after two samples: srtt %v rttvar %v", e.SRTT(), e.RTTVar())
	}
	info := e.Info("a", "b")
	if info.A != "a" || info.B != "b" || info.RTT != ms(15) {
		t.Fatalf("Info = %+v", info)
	}
}

func TestLinkEstimatorShrugsOffASpike(t *testing.T) {
	var e LinkEstimator
	for range 100 {
		e.AddRTT(ms(5))
	}
	before := e.Metric(pid(1))
	e.AddRTT(ms(60)) // one Wi-Fi power-save wake-up
	after := e.Metric(pid(1))
	old := SelfMetrics{Links: []LinkMetric{before}}
	cur := SelfMetrics{Links: []LinkMetric{after}}
	if MaterialChange(old, cur) {
		t.Fatalf("one spike is a material change: %+v -> %+v", before, after)
	}
}

func TestSelfEstimatorSmooths(t *testing.T) {
	var s SelfEstimator
	var m SelfMetrics
	s.Apply(&m)
	if m.SpareUpKbps != 0 {
		t.Fatal("Apply before any reading changed the metrics")
	}
	s.Observe(1000, 2000, 0.5)
	s.Observe(3000, 2000, math.NaN())
	s.Apply(&m)
	if m.SpareUpKbps != 2000 || m.SpareDownKbps != 2000 || m.CPULoad != 0.25 {
		t.Fatalf("after two readings: %+v, want plain means", m)
	}
	rnd := rand.New(rand.NewPCG(3, 3))
	for range 200 {
		s.Observe(10_000*(1+0.1*rnd.NormFloat64()), -5, 0.2)
	}
	s.Apply(&m)
	if m.SpareUpKbps < 9_000 || m.SpareUpKbps > 11_000 || m.SpareDownKbps != 1 {
		t.Fatalf("steady state: %+v", m)
	}
	// One noisy reading must not be a material change.
	prev := m
	s.Observe(13_000, 0, 0.2)
	s.Apply(&m)
	if MaterialChange(prev, m) {
		t.Fatalf("a +30 %% reading moved the published figure from %d to %d", prev.SpareUpKbps, m.SpareUpKbps)
	}
}

// TestSelfEstimatorQuickToWorsen checks the asymmetry: a clear step for the worse
// shows within a reading or two, a step for the better takes the usual ~8.
func TestSelfEstimatorQuickToWorsen(t *testing.T) {
	steady := func(up, down, cpu float64) *SelfEstimator {
		s := &SelfEstimator{}
		for range 100 {
			s.Observe(up, down, cpu)
		}
		return s
	}
	var m SelfMetrics
	s := steady(10_000, 10_000, 0.1)
	s.Observe(10_000, 2_000, 0.9)
	s.Apply(&m)
	if m.CPULoad < 0.49 || m.SpareDownKbps > 6_000 || m.SpareUpKbps != 10_000 {
		t.Fatalf("one reading after a step for the worse: %+v, want cpu ≥ 0.5, down ≤ 6000, up unchanged", m)
	}
	s.Observe(10_000, 2_000, 0.9)
	s.Apply(&m)
	if m.CPULoad < 0.69 || m.SpareDownKbps > 4_000 {
		t.Fatalf("two readings after it: %+v, want cpu ≥ 0.7, down ≤ 4000", m)
	}

	s = steady(2_000, 2_000, 0.9)
	s.Observe(10_000, 10_000, 0.1)
	s.Apply(&m)
	if m.CPULoad < 0.79 || m.SpareUpKbps > 3_100 {
		t.Fatalf("one reading after a step for the better: %+v, want gain 1/8 (cpu 0.8, up 3000)", m)
	}

	// Noise around a steady value is not a step: ±0.03 CPU, ±10 % bandwidth.
	s = steady(10_000, 10_000, 0.3)
	rnd := rand.New(rand.NewPCG(4, 4))
	for range 500 {
		s.Observe(10_000*(1+0.1*rnd.NormFloat64()), 10_000*(1+0.1*rnd.NormFloat64()), 0.3+0.03*rnd.NormFloat64())
	}
	s.Apply(&m)
	if m.CPULoad < 0.27 || m.CPULoad > 0.33 || m.SpareUpKbps < 9_000 || m.SpareUpKbps > 11_000 {
		t.Fatalf("noisy steady state drifted: %+v", m)
	}
}
