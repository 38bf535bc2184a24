//go:build !windows

package sysinfo

// LinkTypeOf tells wired from wireless (see sysfsLinkType).
func (r Reader) LinkTypeOf(iface string) LinkType { return r.sysfsLinkType(iface) }

// PowerSource reports the power source (see sysfsPowerSource).
func (r Reader) PowerSource() Power { return r.sysfsPowerSource() }

// CPUTimes returns total and idle CPU time (see sysfsCPUTimes); the load between
// two readings is 1 − Δidle/Δtotal.
func (r Reader) CPUTimes() (total, idle uint64, ok bool) { return r.sysfsCPUTimes() }
