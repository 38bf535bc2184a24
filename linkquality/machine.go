package linkquality

import (
	"net"
	"net/netip"
	"slices"
	"time"

	"parley/internal/sysinfo"
	"parley/selection"
)

// Machine is what the monitor reads of the machine it runs on. OS reads the real
// one; tests inject fakes instead of reading /proc and /sys.
type Machine interface {
	// PowerSource is mains, battery or unknown.
	PowerSource() sysinfo.Power
	// LinkTypeOf is the medium of the named interface.
	LinkTypeOf(iface string) sysinfo.LinkType
	// CPUTimes are the total and idle CPU time counters, in any unit.
	CPUTimes() (total, idle uint64, ok bool)
	// InterfacesWith names the interfaces that carry one of addrs.
	InterfacesWith(addrs []netip.AddrPort) []string
	// BSSID is the access point a wireless interface is associated with, if
	// known (cell.go).
	BSSID(iface string) ([6]byte, bool)
}

// OS is the real machine: sysinfo.System for power, media and CPU, the interface
// table for which interfaces carry this node's addresses.
type OS struct{}

func (OS) PowerSource() sysinfo.Power               { return sysinfo.System.PowerSource() }
func (OS) LinkTypeOf(iface string) sysinfo.LinkType { return sysinfo.System.LinkTypeOf(iface) }
func (OS) CPUTimes() (total, idle uint64, ok bool)  { return sysinfo.System.CPUTimes() }
func (OS) BSSID(iface string) ([6]byte, bool)       { return readBSSID(iface) }

// InterfacesWith reads the interface table once (each interface's addresses
// once), not once per address.
func (OS) InterfacesWith(addrs []netip.AddrPort) []string {
	if len(addrs) == 0 {
		return nil
	}
	ifcs, _ := net.Interfaces()
	var out []string
	for _, ifc := range ifcs {
		have, _ := ifc.Addrs()
		if slices.ContainsFunc(have, func(a net.Addr) bool {
			p, err := netip.ParsePrefix(a.String())
			return err == nil && slices.ContainsFunc(addrs, func(ap netip.AddrPort) bool { return p.Addr() == ap.Addr().WithZone("") })
		}) {
			out = append(out, ifc.Name)
		}
	}
	return out
}

// cpuLoad turns two readings of the CPU counters into the load between them.
type cpuLoad struct {
	total, idle uint64
	load        float64
}

// update folds in a reading and returns the load since the previous one (the
// last known load when the counters did not move or could not be read).
func (c *cpuLoad) update(total, idle uint64, ok bool) float64 {
	if ok && c.total != 0 && total > c.total {
		c.load = 1 - float64(idle-c.idle)/float64(total-c.total)
	}
	if ok {
		c.total, c.idle = total, idle
	}
	return max(0, min(1, c.load))
}

// powerSource is the override if one was given, else the machine's reading.
func (q *Monitor) powerSource() selection.Power {
	p := q.cfg.Power
	if p == sysinfo.PowerUnknown {
		p = q.cfg.Machine.PowerSource()
	}
	switch p {
	case sysinfo.PowerMains:
		return selection.Mains
	case sysinfo.PowerBattery:
		return selection.Battery
	}
	return selection.PowerUnknown
}

// linkTypeEvery is how long a reading of the link medium is reused. Reading it
// dumps the interface table over netlink; once a second that was the largest
// allocation of an idle node. The medium changes when the machine moves between
// Wi-Fi and a cable, and the publisher rate-limits a change to one per 30 s anyway.
const linkTypeEvery = 30 * time.Second

// linkMedium is the last reading of the link medium, and of the cell, and when
// they were taken.
type linkMedium struct {
	at   time.Time
	was  selection.LinkType
	cell uint64
}

// cachedLinkType is linkType, read again when linkTypeEvery has passed. The
// caller holds q.mu.
func (q *Monitor) cachedLinkType(now time.Time) selection.LinkType {
	if q.media.at.IsZero() || now.Sub(q.media.at) >= linkTypeEvery || now.Before(q.media.at) {
		q.media.was, q.media.cell = q.linkType()
		q.media.at = now
	}
	return q.media.was
}

// linkType is the medium of the interfaces in use: wireless if any is, and then
// the cell of the first wireless one whose access point is known.
func (q *Monitor) linkType() (selection.LinkType, uint64) {
	lt := selection.LinkUnknown
	for _, name := range q.cfg.Machine.InterfacesWith(q.cfg.Overlay.AdvertisedAddrs()) {
		switch q.cfg.Machine.LinkTypeOf(name) {
		case sysinfo.LinkWireless:
			if bssid, ok := q.cfg.Machine.BSSID(name); ok {
				return selection.Wireless, CellID(q.cfg.CellSalt, bssid)
			}
			lt = selection.Wireless
		case sysinfo.LinkWired:
			if lt == selection.LinkUnknown {
				lt = selection.Wired
			}
		}
	}
	return lt, 0
}
