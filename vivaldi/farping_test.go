package vivaldi

import (
	"testing"
	"time"
)

func TestFarPingEvery(t *testing.T) {
	for _, tc := range []struct {
		online int
		want   time.Duration
	}{{0, 10 * time.Second}, {20, 10 * time.Second}, {40, 20 * time.Second}, {60, 30 * time.Second}, {5000, 30 * time.Second}} {
		if got := FarPingEvery(tc.online); got != tc.want {
			t.Errorf("FarPingEvery(%d) = %v, want %v", tc.online, got, tc.want)
		}
	}
}
