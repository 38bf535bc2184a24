package call

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/pion/transport/v2"
	"github.com/pion/transport/v2/stdnet"
)

// ICE gathers host candidates on the interfaces the system lists. Wine lists
// none (its GetAdaptersAddresses fails, in a network namespace and outside
// one), and pion's own network then fails outright, so a Windows build under
// Wine could ring and answer but never carry audio. As discovery does
// (discovery/unlisted.go), calls then fall back to one stand-in interface
// holding the address the system itself sends from. Linux always lists at
// least its loopback, so there the system's list is used as it is.
// itest/windows_test.go (TestWindowsCall) carries a tone both ways this way.

// standInName names the stand-in interface, as discovery names its own.
const standInName = "default"

// probeDests are where a UDP socket is "connected" (nothing is sent) to learn
// the source address the system would use: the mDNS group first — a LAN
// without a default route (the test lab's) still routes multicast — then a
// documentation address (RFC 5737) for the default route.
var probeDests = []string{"224.0.0.251:5353", "192.0.2.1:9"}

// fallbackNet is the system network with the stand-in interface in place of
// an empty interface list.
type fallbackNet struct {
	transport.Net
	// probe finds the addresses of the stand-in (sourceAddrs; tests replace it).
	probe func() []net.IP
	log   *slog.Logger
}

// systemNet is the network pion uses for calls outside tests.
func systemNet(log *slog.Logger) transport.Net {
	sys, err := stdnet.NewNet()
	if err != nil {
		// sys is still usable: only its interface list is empty. Where
		// interfaces cannot be listed, say so once per call leg.
		log.Debug("call: the system lists no network interfaces; using the stand-in", "err", err)
	}
	return &fallbackNet{Net: sys, probe: sourceAddrs, log: log}
}

// Interfaces is the system's list, or the stand-in when that is empty.
func (f *fallbackNet) Interfaces() ([]*transport.Interface, error) {
	ifs, err := f.Net.Interfaces()
	if err == nil && len(ifs) > 0 {
		return ifs, nil
	}
	if s := f.standIn(); s != nil {
		return []*transport.Interface{s}, nil
	}
	return ifs, err
}

// InterfaceByName finds the stand-in too, when it stands in.
func (f *fallbackNet) InterfaceByName(name string) (*transport.Interface, error) {
	ifc, err := f.Net.InterfaceByName(name)
	if err == nil || name != standInName {
		return ifc, err
	}
	ifs, lerr := f.Interfaces()
	if lerr == nil && len(ifs) == 1 && ifs[0].Name == standInName {
		return ifs[0], nil
	}
	return ifc, err
}

// standIn is the stand-in interface, nil when no address was found.
func (f *fallbackNet) standIn() *transport.Interface {
	ips := f.probe()
	if len(ips) == 0 {
		f.log.Warn("call: no network interfaces listed and no source address found: no media candidates")
		return nil
	}
	// Index 0 like discovery's stand-in; up and multicast so ICE keeps it.
	ifc := transport.NewInterface(net.Interface{Index: 0, Name: standInName, Flags: net.FlagUp | net.FlagMulticast})
	for _, ip := range ips {
		bits := 8 * len(ip)
		ifc.AddAddress(&net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
	}
	f.log.Debug("call: interfaces unlisted, gathering on the stand-in", "addrs", fmt.Sprint(ips))
	return ifc
}

// sourceAddrs are the source addresses the system picks for probeDests,
// without duplicates, loopback or unspecified ones.
func sourceAddrs() []net.IP {
	var out []net.IP
	for _, dest := range probeDests {
		c, err := net.Dial("udp4", dest)
		if err != nil {
			continue
		}
		la, ok := c.LocalAddr().(*net.UDPAddr)
		c.Close()
		if !ok || la.IP.IsUnspecified() || la.IP.IsLoopback() {
			continue
		}
		ip := la.IP.To4()
		if ip == nil {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o.Equal(ip)
		}
		if !dup {
			out = append(out, ip)
		}
	}
	return out
}
