package netlab

import (
	"fmt"
	"os/exec"
)

// Shape limits the host's link on seg to rate (tc syntax, e.g. "256kbit") in both
// directions with a token bucket filter: the host's egress on its own interface and
// its ingress as the switch port's egress. An empty rate removes the shaping. (This
// kernel has no netem; tbf is what there is, and bandwidth is what it shapes.)
func (h *Host) Shape(seg *Segment, rate string) error {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	ifc := h.iface(seg)
	if ifc == nil {
		return fmt.Errorf("netlab: %s: not attached to segment %q", h.Name, seg.Name)
	}
	for _, end := range []struct{ ns, dev string }{{h.NS, ifc.name}, {h.lab.sw, ifc.peer}} {
		// Replace is not idempotent for "no qdisc yet", so delete first and ignore
		// the error when there was none.
		exec.Command("ip", "netns", "exec", end.ns, "tc", "qdisc", "del", "dev", end.dev, "root").Run()
		if rate == "" {
			continue
		}
		out, err := exec.Command("ip", "netns", "exec", end.ns, "tc", "qdisc", "add", "dev", end.dev, "root",
			"tbf", "rate", rate, "burst", "4kb", "latency", "400ms").CombinedOutput()
		if err != nil {
			return fmt.Errorf("netlab: %s: shape %s to %s: %v: %s", h.Name, end.dev, rate, err, out)
		}
	}
	return nil
}
