package main

import (
	"slices"
	"testing"
)

func TestParseSeeds(t *testing.T) {
	got, err := parseSeeds("1-3,11,15-16")
	if err != nil || !slices.Equal(got, []uint64{1, 2, 3, 11, 15, 16}) {
		t.Fatalf("parseSeeds = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "x", "3-1", "1-", "1-5000"} {
		if _, err := parseSeeds(bad); err == nil {
			t.Errorf("parseSeeds(%q) accepted", bad)
		}
	}
}
