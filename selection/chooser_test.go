package selection

import "testing"

func ranking(pairs ...any) []Ranked {
	var r []Ranked
	for i := 0; i < len(pairs); i += 2 {
		r = append(r, Ranked{ID: pairs[i].(string), Cost: pairs[i+1].(float64)})
	}
	return r
}

func TestChooserHysteresis(t *testing.T) {
	steps := []struct {
		name     string
		ranked   []Ranked
		want     string
		switched bool
	}{
		{"first choice", ranking("x", 40.0, "y", 60.0), "x", true},
		{"same best", ranking("x", 41.0, "y", 60.0), "x", false},
		{"5 ms gain is noise", ranking("y", 36.0, "x", 41.0), "x", false},
		{"30 ms gain but not below 2/3", ranking("y", 170.0, "x", 200.0), "x", false},
		{"below 2/3 but under 10 ms", ranking("y", 3.0, "x", 12.0), "x", false},
		{"30 ms gain and below 2/3", ranking("y", 50.0, "x", 80.0), "y", true},
		{"back to x only for a clear gain", ranking("x", 45.0, "y", 50.0), "y", false},
		{"current vanished: take the best at once", ranking("x", 45.0, "z", 46.0), "x", true},
	}
	c := NewChooser(DefaultMinGain, DefaultRatio)
	for _, s := range steps {
		got, sw := c.Choose("call", s.ranked)
		if got.ID != s.want || sw != s.switched {
			t.Fatalf("%s: got %s switched=%v, want %s switched=%v", s.name, got.ID, sw, s.want, s.switched)
		}
		if cur, _ := c.Current("call"); cur != s.want {
			t.Fatalf("%s: Current = %s", s.name, cur)
		}
	}
	// The returned entry carries the kept choice's current cost, not the best's.
	if got, _ := c.Choose("call", ranking("y", 40.0, "x", 45.0)); got.ID != "x" || got.Cost != 45 {
		t.Fatalf("kept choice returned as %+v", got)
	}
}

func TestChooserKeysAndEmpty(t *testing.T) {
	c := NewChooser(DefaultMinGain, DefaultRatio)
	c.Choose("a", ranking("x", 1.0))
	c.Choose("b", ranking("y", 1.0))
	if got, _ := c.Choose("a", ranking("y", 1.0, "x", 50.0)); got.ID != "y" {
		t.Fatalf("key a: %s", got.ID)
	}
	if got, sw := c.Choose("b", nil); got.ID != "" || sw {
		t.Fatalf("empty ranking: %+v %v", got, sw)
	}
	if _, ok := c.Current("b"); ok {
		t.Fatal("empty ranking did not forget the key")
	}
	c.Forget("a")
	if _, sw := c.Choose("a", ranking("x", 1.0)); !sw {
		t.Fatal("a forgotten key's next choice is not a switch")
	}
}
