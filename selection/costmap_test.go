package selection

import (
	"net/netip"
	"strings"
	"testing"
)

const sampleMap = `# floors
10.0.1.0/24   10.0.2.0/24   25    # shared uplink
10.0.0.0/16   10.0.0.0/16   2
10.0.9.0/24   0.0.0.0/0     200
10.0.1.7      10.0.2.0/24   5
fd00::/64     fd00:1::/64   7.5

::ffff:10.0.3.0/120 10.0.4.0/24 11
`

func TestCostMapLookup(t *testing.T) {
	cm, err := ParseCostMap(strings.NewReader(sampleMap))
	if err != nil {
		t.Fatal(err)
	}
	if cm.Len() != 6 {
		t.Fatalf("Len = %d, want 6", cm.Len())
	}
	cases := []struct {
		a, b string
		cost float64
		ok   bool
	}{
		{"10.0.1.5", "10.0.2.9", 25, true},
		{"10.0.2.9", "10.0.1.5", 25, true}, // symmetric
		{"10.0.1.7", "10.0.2.9", 5, true},  // host entry is longer
		{"10.0.1.5", "10.0.1.6", 2, true},  // only the /16 self-entry matches
		{"10.0.9.1", "192.168.1.1", 200, true},
		{"10.0.9.1", "10.0.1.1", 2, true}, // both in 10.0/16: /16+/16 (32 bits) beats /24+/0 (24)
		{"fd00::1", "fd00:1::2", 7.5, true},
		{"::ffff:10.0.3.1", "10.0.4.1", 11, true},
		{"10.0.3.1", "10.0.4.1", 11, true},
		{"192.168.0.1", "192.168.0.2", 0, false},
		{"fe80::1%eth0", "fd00:1::2", 0, false},
	}
	for _, tc := range cases {
		got, ok := cm.Cost(netip.MustParseAddr(tc.a), netip.MustParseAddr(tc.b))
		if got != tc.cost || ok != tc.ok {
			t.Errorf("Cost(%s, %s) = %v, %v; want %v, %v", tc.a, tc.b, got, ok, tc.cost, tc.ok)
		}
	}
	var nilMap *CostMap
	if _, ok := nilMap.Cost(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")); ok {
		t.Fatal("nil map matched")
	}
}

func TestCostMapZoneIgnored(t *testing.T) {
	cm, err := ParseCostMap(strings.NewReader("fe80::/64 fe80::/64 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := cm.Cost(netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("fe80::2")); !ok || got != 4 {
		t.Fatalf("zoned lookup = %v, %v; want 4, true", got, ok)
	}
}

var badMaps = []struct {
	name, text, want string
}{
	{"two fields", "10.0.0.0/8 10.0.0.0/8\n", "line 1: want"},
	{"four fields", "# c\n10.0.0.0/8 10.0.0.0/8 1 2\n", "line 2: want"},
	{"bad prefix", "\n\n10.0.0.0/33 10.0.0.0/8 1\n", "line 3: bad prefix"},
	{"bad address", "banana 10.0.0.0/8 1\n", "line 1: bad prefix"},
	{"bad second prefix", "10.0.0.0/8 10.0.0.0/x 1\n", "line 1: bad prefix"},
	{"negative cost", "10.0.0.0/8 10.0.0.0/8 -1\n", "line 1: cost"},
	{"NaN cost", "10.0.0.0/8 10.0.0.0/8 NaN\n", "line 1: cost"},
	{"huge cost", "10.0.0.0/8 10.0.0.0/8 1e7\n", "line 1: cost"},
	{"word cost", "10.0.0.0/8 10.0.0.0/8 cheap\n", "line 1: cost"},
	{"duplicate", "10.0.1.0/24 10.0.2.0/24 1\n10.0.1.0/24 10.0.2.0/24 2\n", "line 2: 10.0.1.0/24 10.0.2.0/24 already given on line 1"},
	{"reversed duplicate", "10.0.1.0/24 10.0.2.0/24 1\n10.0.2.0/24 10.0.1.0/24 2\n", "line 2:"},
	{"masked duplicate", "10.0.1.0/24 10.0.2.0/24 1\n10.0.1.9/24 10.0.2.0/24 2\n", "line 2:"},
	{"short mapped prefix", "::ffff:10.0.0.0/90 10.0.0.0/8 1\n", "line 1: bad prefix"},
	{"long line", strings.Repeat("x", 70000), "line 1:"},
}

func TestCostMapErrors(t *testing.T) {
	for _, tc := range badMaps {
		_, err := ParseCostMap(strings.NewReader(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestCostMapStringRoundTrip(t *testing.T) {
	cm, err := ParseCostMap(strings.NewReader(sampleMap))
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseCostMap(strings.NewReader(cm.String()))
	if err != nil {
		t.Fatalf("reparse %q: %v", cm.String(), err)
	}
	if again.String() != cm.String() {
		t.Fatalf("round trip:\n%s\nvs\n%s", again, cm)
	}
}

func FuzzParseCostMap(f *testing.F) {
	f.Add(sampleMap)
	for _, tc := range badMaps {
		if len(tc.text) < 1000 {
			f.Add(tc.text)
		}
	}
	probes := []netip.Addr{
		netip.MustParseAddr("10.0.1.7"), netip.MustParseAddr("10.0.2.1"),
		netip.MustParseAddr("fd00::1"), netip.MustParseAddr("::ffff:10.0.3.1"), {},
	}
	f.Fuzz(func(t *testing.T, text string) {
		cm, err := ParseCostMap(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, a := range probes {
			for _, b := range probes {
				c1, ok1 := cm.Cost(a, b)
				c2, ok2 := cm.Cost(b, a)
				if c1 != c2 || ok1 != ok2 || c1 < 0 || c1 > MaxMapCost {
					t.Fatalf("Cost(%v,%v)=%v,%v but reversed %v,%v", a, b, c1, ok1, c2, ok2)
				}
			}
		}
		again, err := ParseCostMap(strings.NewReader(cm.String()))
		if err != nil || again.String() != cm.String() {
			t.Fatalf("canonical form %q does not reparse to itself: %v", cm.String(), err)
		}
	})
}
