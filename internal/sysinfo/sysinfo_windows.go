package sysinfo

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows, System asks the Windows APIs; a Reader with any other root reads
// that tree like on Linux (the package's tests use fake trees on every system).

var (
	kernel32             = windows.NewLazySystemDLL("kernel32.dll")
	getSystemPowerStatus = kernel32.NewProc("GetSystemPowerStatus")
	getSystemTimes       = kernel32.NewProc("GetSystemTimes")
)

// LinkTypeOf tells wired from wireless by the adapter's interface type (IfType 71,
// IEEE 802.11, is wireless; any other adapter is wired: virtual adapters behave
// like cables, as on Linux). iface is the adapter's friendly name, which is what
// net.Interface.Name holds on Windows. Wine lists no adapter types for this, so
// under Wine every interface reads as unknown.
func (r Reader) LinkTypeOf(iface string) LinkType {
	if r != System {
		return r.sysfsLinkType(iface)
	}
	aas, err := adapters()
	if err != nil {
		return LinkUnknown
	}
	for _, aa := range aas {
		if windows.UTF16PtrToString(aa.FriendlyName) != iface {
			continue
		}
		if aa.IfType == windows.IF_TYPE_IEEE80211 {
			return LinkWireless
		}
		return LinkWired
	}
	return LinkUnknown
}

// adapters returns the adapter list (GetAdaptersAddresses, grown until it fits).
func adapters() ([]*windows.IpAdapterAddresses, error) {
	size := uint32(15000) // Microsoft's recommended first size
	for range 4 {
		b := make([]byte, size)
		first := (*windows.IpAdapterAddresses)(unsafe.Pointer(&b[0]))
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, 0, 0, first, &size)
		if err == windows.ERROR_BUFFER_OVERFLOW {
			continue
		}
		if err != nil {
			return nil, err
		}
		if size == 0 {
			return nil, nil
		}
		var out []*windows.IpAdapterAddresses
		for aa := first; aa != nil; aa = aa.Next {
			out = append(out, aa)
		}
		return out, nil
	}
	return nil, windows.ERROR_BUFFER_OVERFLOW
}

// systemPowerStatus is SYSTEM_POWER_STATUS (winbase.h).
type systemPowerStatus struct {
	ACLineStatus        byte // 0 offline, 1 online, 255 unknown
	BatteryFlag         byte // 128: no system battery, 255: unknown
	BatteryLifePercent  byte
	SystemStatusFlag    byte
	BatteryLifeTime     uint32
	BatteryFullLifeTime uint32
}

// PowerSource reports battery when the machine is off the mains (ACLineStatus 0),
// mains when it is on them, unknown when Windows does not know (255) or the call
// fails.
func (r Reader) PowerSource() Power {
	if r != System {
		return r.sysfsPowerSource()
	}
	var st systemPowerStatus
	if ok, _, _ := getSystemPowerStatus.Call(uintptr(unsafe.Pointer(&st))); ok == 0 {
		return PowerUnknown
	}
	switch st.ACLineStatus {
	case 0:
		return PowerBattery
	case 1:
		return PowerMains
	}
	return PowerUnknown
}

// CPUTimes returns total and idle CPU time in 100 ns units from GetSystemTimes;
// its kernel time includes the idle time, so total is kernel + user. The load
// between two readings is 1 − Δidle/Δtotal, as on Linux.
func (r Reader) CPUTimes() (total, idle uint64, ok bool) {
	if r != System {
		return r.sysfsCPUTimes()
	}
	var idleT, kernelT, userT windows.Filetime
	if res, _, _ := getSystemTimes.Call(uintptr(unsafe.Pointer(&idleT)), uintptr(unsafe.Pointer(&kernelT)), uintptr(unsafe.Pointer(&userT))); res == 0 {
		return 0, 0, false
	}
	ft := func(f windows.Filetime) uint64 { return uint64(f.HighDateTime)<<32 | uint64(f.LowDateTime) }
	return ft(kernelT) + ft(userT), ft(idleT), true
}
