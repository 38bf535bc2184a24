package app

import (
	"fyne.io/fyne/v2"
	"strings"
	"testing"

	"parley/node"
)

// Two peers called Alice are told apart in the list by the start of their
// safety numbers; a look-alike whose first group matches gets a longer one;
// a peer with a name of its own shows just the name.
func TestSameNameToldApart(t *testing.T) {
	real := peer(aliceID, "Alice", "available", "")
	real.Fingerprint = "48213 11111 22222 33333 44444 55555"
	twin := peer(mkID("alice-2"), "alice", "available", "")
	twin.Fingerprint = "90112 11111 22222 33333 44444 55555"
	grind := peer(mkID("alice-3"), "Alice", "available", "")
	grind.Fingerprint = "48213 77777 22222 33333 44444 55555"
	h := newHarness(t, newFakeCore(real, twin, grind, peer(bobID, "Bob", "available", "")))
	h.win.Canvas().Refresh(h.u.roster.list)
	for _, want := range []string{"Alice · 48213 11111", "alice · 90112", "Alice · 48213 77777", "Bob"} {
		if h.rosterRow(want) == nil {
			var shown []string
			walk(h.u.roster.list, func(o fyne.CanvasObject) {
				if r, ok := o.(*listRow); ok {
					shown = append(shown, r.title.Text)
				}
			})
			t.Errorf("no row %q (rows: %s)", want, strings.Join(shown, " | "))
		}
	}
}

func TestDistinctPrefix(t *testing.T) {
	p := node.PeerView{ID: "p", Fingerprint: "1 2 3"}
	for _, tc := range []struct {
		others []node.PeerView
		want   string
	}{
		{[]node.PeerView{{Fingerprint: "9 2 3"}}, "1"},
		{[]node.PeerView{{Fingerprint: "1 9 3"}, {Fingerprint: "8 2 3"}}, "1 2"},
		{[]node.PeerView{{Fingerprint: "1 2 3"}}, "1 2 3"}, // the same number: all of it
		{[]node.PeerView{{ID: "abcdefghij"}}, "1"},         // another without a number
	} {
		if got := distinctPrefix(p, tc.others); got != tc.want {
			t.Errorf("distinctPrefix(%v) = %q, want %q", tc.others, got, tc.want)
		}
	}
	if got := distinctPrefix(node.PeerView{ID: "0123456789"}, nil); got != "01234567" {
		t.Errorf("without a safety number: %q", got)
	}
}
