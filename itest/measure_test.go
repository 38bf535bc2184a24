package itest

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/netlab"
)

// probeSeq keeps probe texts unique across every probe of a test run.
var probeSeq atomic.Int64

// chatLatency sends n messages from one node to another, one at a time with gap
// between them, and returns each one's latency: from the moment the command is
// written to the time stamp of the receiver's "message" event (both on this
// machine's clock), sorted. It is the latency a person would see.
func chatLatency(t *testing.T, from, to *node, n int, gap time.Duration) []time.Duration {
	t.Helper()
	return chatLatencyWhile(t, from, to, n, gap, nil)
}

// chatLatencyWhile is chatLatency that goes on past n messages for as long as busy
// is open (an attack still running), so the samples cover the whole attack.
func chatLatencyWhile(t *testing.T, from, to *node, n int, gap time.Duration, busy <-chan struct{}) []time.Duration {
	t.Helper()
	out := make([]time.Duration, 0, n)
	running := func() bool {
		if busy == nil {
			return false
		}
		select {
		case <-busy:
			return false
		default:
			return true
		}
	}
	for i := 0; i < n || running(); i++ {
		text := fmt.Sprintf("probe %d", probeSeq.Add(1))
		t0 := time.Now()
		if _, err := from.Send(to.id, text); err != nil {
			t.Fatal(err)
		}
		e, err := to.WaitEvent(15*time.Second, func(e netlab.Event) bool { return e.Name() == "message" && e.Str("text") == text })
		if err != nil {
			t.Fatalf("probe %q from %s to %s not received: %v\n%s", text, from.name, to.name, err, to.Tail())
		}
		at, err := time.Parse(time.RFC3339Nano, e.Str("time"))
		if err != nil {
			t.Fatalf("event time %q: %v", e.Str("time"), err)
		}
		out = append(out, at.Sub(t0))
		time.Sleep(gap)
	}
	slices.Sort(out)
	return out
}

func median(d []time.Duration) time.Duration { return d[len(d)/2] }

// latencyFloor is the least allowance for "within 2× of normal": on a loaded
// 2-core CI machine running race-detector binaries, a few milliseconds of
// scheduler noise would otherwise decide the verdict when the normal median is
// itself only a few milliseconds.
const latencyFloor = 10 * time.Millisecond

// within2x fails the test unless the median under attack is at most twice the
// normal median (or normal + latencyFloor, whichever is larger).
func within2x(t *testing.T, what string, normal, attack []time.Duration) {
	t.Helper()
	limit := max(2*median(normal), median(normal)+latencyFloor)
	t.Logf("latency %s: normal median %v (n=%d, max %v); under attack median %v (n=%d, max %v); limit %v",
		what, median(normal).Round(10*time.Microsecond), len(normal), normal[len(normal)-1].Round(10*time.Microsecond),
		median(attack).Round(10*time.Microsecond), len(attack), attack[len(attack)-1].Round(10*time.Microsecond), limit.Round(10*time.Microsecond))
	if median(attack) > limit {
		t.Errorf("latency %s under attack: median %v, more than 2× the normal %v", what, median(attack), median(normal))
	}
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read /proc/%d/status: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("VmRSS %q: %v", line, err)
			}
			return kb
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// memBound checks that each node's RSS grew by at most limitMiB since before.
func memBound(t *testing.T, limitMiB int, before map[*node]int, nodes ...*node) {
	t.Helper()
	for _, n := range nodes {
		after := rssKiB(t, n.PID())
		growth := after - before[n]
		t.Logf("memory %s: RSS %.1f MiB before, %.1f MiB after (+%.1f MiB, bound +%d MiB)",
			n.name, float64(before[n])/1024, float64(after)/1024, float64(growth)/1024, limitMiB)
		if growth > limitMiB*1024 {
			t.Errorf("%s RSS grew by %.1f MiB, bound %d MiB", n.name, float64(growth)/1024, limitMiB)
		}
	}
}

// delta is after-before for one counter.
func delta(before, after map[string]float64, key string) float64 { return after[key] - before[key] }
