package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"parley/node"
)

// BenchmarkScrollHistory scrolls a 10,000-message conversation from its newest
// message up to its oldest, one mouse-wheel step (a third of the window) per
// operation, the way a user reads back: each step lays out and binds the rows that
// come into view, and at the top of what is loaded the next page of 50 is fetched
// and prepended. ns/op is the UI thread's work per step; the p50/p99/max metrics
// are per step in milliseconds, to compare with a 16.7 ms frame at 60 Hz. The
// Fyne test driver does no GPU work, so drawing is not in these figures.
func BenchmarkScrollHistory(b *testing.B) {
	const total, step = 10000, 200
	fc := fivePeers()
	start := time.Now().Add(-total * time.Hour)
	ms := msgs(bobID, start, total, "bob")
	for i := range ms {
		ms[i].ID = fmt.Sprintf("bob-%05d", i)
		if i%7 == 0 { // some long ones, so rows wrap to several lines
			ms[i].Text = strings.Repeat("a longer message that wraps across the bubble ", 1+i%5)
		}
	}
	fc.addHistory(node.DirectConv(bobID), ms...)
	h := newHarness(b, fc)
	c := h.u.conv
	h.openPeer(bobID)
	h.waitFor("the first page", func() bool { return len(c.msgs) == pageSize })

	var steps []time.Duration
	pages := 0
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if off := c.list.GetScrollOffset(); off > 0 {
			c.list.ScrollToOffset(max(0, off-step))
		} else if c.next != "" {
			// At the top of what is loaded: binding the "older" row asked for the
			// next page; the step ends when it is in and the view has held still.
			n := len(c.msgs)
			h.waitFor("an older page", func() bool { return len(c.msgs) > n })
			pages++
		} else {
			c.list.ScrollToBottom() // read it all: start again from the newest
		}
		h.pump()
		test.WidgetRenderer(c.list) // lay out what scrolled into view
		steps = append(steps, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(steps)
	q := func(p float64) float64 {
		return float64(steps[min(len(steps)-1, int(p*float64(len(steps))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(steps[len(steps)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(len(c.msgs)), "loaded-msgs")
	b.ReportMetric(float64(pages), "pages")
}
