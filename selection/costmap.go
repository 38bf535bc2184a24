package selection

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// CostMap is an administrator's knowledge of the network, as costs between address
// prefixes (see the package doc for the file format). It is read-only after parsing.
type CostMap struct {
	entries []costEntry
}

type costEntry struct {
	a, b netip.Prefix
	cost float64
	line int
}

// MaxMapCost bounds a cost-map entry (ms-equivalent): large enough to say "avoid",
// small enough that sums stay exact.
const MaxMapCost = 1e6

// ParseCostMap reads a cost map. Errors name the line.
func ParseCostMap(r io.Reader) (*CostMap, error) {
	cm := &CostMap{}
	sc := bufio.NewScanner(r)
	seen := map[[2]netip.Prefix]int{}
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("cost map line %d: want \"prefix prefix cost\", got %d fields", line, len(f))
		}
		a, err := parsePrefix(f[0])
		if err != nil {
			return nil, fmt.Errorf("cost map line %d: %w", line, err)
		}
		b, err := parsePrefix(f[1])
		if err != nil {
			return nil, fmt.Errorf("cost map line %d: %w", line, err)
		}
		cost, err := strconv.ParseFloat(f[2], 64)
		if err != nil || math.IsNaN(cost) || cost < 0 || cost > MaxMapCost {
			return nil, fmt.Errorf("cost map line %d: cost %q: want a number of ms from 0 to %g", line, f[2], float64(MaxMapCost))
		}
		key := [2]netip.Prefix{a, b}
		if b.String() < a.String() {
			key = [2]netip.Prefix{b, a}
		}
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("cost map line %d: %s %s already given on line %d", line, a, b, prev)
		}
		seen[key] = line
		cm.entries = append(cm.entries, costEntry{a: a, b: b, cost: cost, line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cost map line %d: %w", line+1, err)
	}
	return cm, nil
}

// parsePrefix accepts a prefix or a bare address (a host prefix). Host bits are
// cleared and IPv4-mapped IPv6 forms are unmapped, so matching is by network.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad prefix %q: %w", s, err)
		}
		a = a.Unmap().WithZone("")
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad prefix %q: %w", s, err)
	}
	if p.Addr().Is4In6() {
		bits := p.Bits() - 96
		if bits < 0 {
			return netip.Prefix{}, fmt.Errorf("bad prefix %q: IPv4-mapped prefix shorter than /96", s)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), bits)
	}
	return p.Masked(), nil
}

// Cost returns the administrator's cost between a and b. The entry whose two
// prefixes contain the two addresses (in either order: costs are symmetric) with the
// longest prefixes wins — the largest sum of prefix lengths, then the longer shorter
// prefix, then the earlier line — and ok is false if no entry matches.
func (cm *CostMap) Cost(a, b netip.Addr) (float64, bool) {
	if cm == nil {
		return 0, false
	}
	// Prefix.Contains never matches a zoned address; zones are link-local detail.
	a, b = a.Unmap().WithZone(""), b.Unmap().WithZone("")
	best, bestSum, bestMin := -1, -1, -1
	for i, e := range cm.entries {
		if !(e.a.Contains(a) && e.b.Contains(b)) && !(e.a.Contains(b) && e.b.Contains(a)) {
			continue
		}
		sum, mn := e.a.Bits()+e.b.Bits(), min(e.a.Bits(), e.b.Bits())
		if sum > bestSum || (sum == bestSum && mn > bestMin) {
			best, bestSum, bestMin = i, sum, mn
		}
	}
	if best < 0 {
		return 0, false
	}
	return cm.entries[best].cost, true
}

// Len is the number of entries.
func (cm *CostMap) Len() int {
	if cm == nil {
		return 0
	}
	return len(cm.entries)
}

// String writes the map back in the file format, one canonical entry a line, so
// that parsing the result gives the same map.
func (cm *CostMap) String() string {
	if cm == nil {
		return ""
	}
	var b strings.Builder
	for _, e := range cm.entries {
		fmt.Fprintf(&b, "%s %s %s\n", e.a, e.b, strconv.FormatFloat(e.cost, 'g', -1, 64))
	}
	return b.String()
}
