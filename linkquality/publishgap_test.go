package linkquality

import (
	"testing"
	"time"
)

// The least gap between two publications is the configured one in a small
// overlay and grows with the records held, so the publications of a whole hall
// stay near one a second at every node.
func TestPublishGapGrowsWithTheOverlay(t *testing.T) {
	base := 30 * time.Second
	for _, tc := range []struct {
		held int
		want time.Duration
	}{{0, base}, {30, base}, {40, 40 * time.Second}, {150, 150 * time.Second}} {
		if got := publishGap(base, tc.held); got != tc.want {
			t.Errorf("%d records: %v, want %v", tc.held, got, tc.want)
		}
	}
	if got := publishGap(100*time.Millisecond, 3); got != 100*time.Millisecond {
		t.Errorf("a test's short PublishMin became %v", got)
	}
}

// Records held include a flood's throwaway ones: the gap stops at 3 minutes.
func TestPublishGapIsBounded(t *testing.T) {
	if got := publishGap(30*time.Second, 4096); got != 3*time.Minute {
		t.Errorf("4,096 records: %v, want 3m", got)
	}
}
