package selection

import (
	"slices"
	"testing"
	"time"
)

func TestPublishedLinks(t *testing.T) {
	link := func(p byte, rttMs float64) LinkMetric {
		return LinkMetric{Peer: pid(p), RTT: time.Duration(rttMs * float64(time.Millisecond))}
	}
	peers := func(ls []LinkMetric) []byte {
		var out []byte
		for _, l := range ls {
			out = append(out, l.Peer[0])
		}
		return out
	}
	all := []LinkMetric{link(5, 9), link(1, 3), link(4, 1), link(3, 4), link(2, 8)}
	orig := slices.Clone(all)

	// Few enough: all of them, sorted by peer.
	if got := peers(PublishedLinks(all, nil, 5)); !slices.Equal(got, []byte{1, 2, 3, 4, 5}) {
		t.Fatalf("under the cap: %v", got)
	}
	// Over the cap: the nearest, sorted by peer.
	if got := peers(PublishedLinks(all, nil, 3)); !slices.Equal(got, []byte{1, 3, 4}) {
		t.Fatalf("nearest 3: %v, want peers 1, 3, 4", got)
	}
	// A link already published keeps its place against one up to 20 % nearer:
	// peer 3 at 4 ms (counted 3.2) stays against a newcomer at 3.5 ms.
	now := []LinkMetric{link(1, 3), link(3, 4), link(4, 1), link(6, 3.5)}
	prev := PublishedLinks(all, nil, 3)
	if got := peers(PublishedLinks(now, prev, 3)); !slices.Equal(got, []byte{1, 3, 4}) {
		t.Fatalf("with the last record: %v, want 1, 3, 4 kept", got)
	}
	// ...but not against one clearly nearer (2 ms < 0.8 × 4 ms).
	now[3] = link(6, 2)
	if got := peers(PublishedLinks(now, prev, 3)); !slices.Equal(got, []byte{1, 4, 6}) {
		t.Fatalf("clearly nearer newcomer: %v, want 1, 4, 6", got)
	}
	if !slices.Equal(all, orig) {
		t.Fatal("PublishedLinks modified its input")
	}
}
