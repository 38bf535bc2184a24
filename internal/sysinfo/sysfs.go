package sysinfo

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// sysfsLinkType tells wired from wireless: a wireless interface has a "wireless" or
// "phy80211" entry in sysfs; any other non-virtual interface with a device is wired.
// Virtual interfaces (veth, bridges) count as wired: they behave like cables.
func (r Reader) sysfsLinkType(iface string) LinkType {
	base := r.path("sys", "class", "net", iface)
	if _, err := os.Stat(base); err != nil {
		return LinkUnknown
	}
	for _, p := range []string{"wireless", "phy80211"} {
		if _, err := os.Stat(filepath.Join(base, p)); err == nil {
			return LinkWireless
		}
	}
	return LinkWired
}

// sysfsPowerSource reports battery when a battery is present and discharging, mains when
// a mains supply is online or a battery is charging/full, unknown otherwise (a
// desktop without power_supply entries is reported as mains by the caller's choice).
func (r Reader) sysfsPowerSource() Power {
	dir := r.path("sys", "class", "power_supply")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return PowerUnknown
	}
	mainsOnline, batteryDischarging, batterySeen := false, false, false
	for _, e := range entries {
		typ := readTrim(filepath.Join(dir, e.Name(), "type"))
		switch typ {
		case "Mains", "USB":
			if readTrim(filepath.Join(dir, e.Name(), "online")) == "1" {
				mainsOnline = true
			}
		case "Battery":
			batterySeen = true
			if readTrim(filepath.Join(dir, e.Name(), "status")) == "Discharging" {
				batteryDischarging = true
			}
		}
	}
	switch {
	case batteryDischarging && !mainsOnline:
		return PowerBattery
	case mainsOnline || batterySeen:
		return PowerMains
	}
	return PowerUnknown
}

// sysfsCPUTimes returns total and idle jiffies from /proc/stat; the load between two
// readings is 1 − Δidle/Δtotal.
func (r Reader) sysfsCPUTimes() (total, idle uint64, ok bool) {
	f, err := os.Open(r.path("proc", "stat"))
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0, false
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return total, idle, true
}

func readTrim(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
