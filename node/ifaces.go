package node

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"parley/discovery"
)

// settingIfaces is the settings key of the chosen interfaces: names joined by
// commas, as --iface takes them; unset or empty means all.
const settingIfaces = "net.ifaces"

// listInterfaces is the machine's interface list (a variable so tests can give
// a machine with other interfaces).
var listInterfaces = net.Interfaces

// NetInterface is an interface discovery can run on, for a settings view.
type NetInterface struct {
	Name  string   `json:"name"`
	Addrs []string `json:"addrs,omitempty"` // unicast addresses, IPv4 first
	Up    bool     `json:"up"`
	// Missing: chosen but not on this machine now (an unplugged adapter).
	Missing bool `json:"missing,omitempty"`
}

// NetInterfaces lists the interfaces peers can be found on — multicast-capable,
// not loopback, up or down — followed by any chosen one that is missing now.
func (n *Node) NetInterfaces() ([]NetInterface, error) {
	all, err := listInterfaces()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	var out []NetInterface
	for _, ifc := range all {
		if !discoverable(ifc) {
			continue
		}
		ni := NetInterface{Name: ifc.Name, Up: ifc.Flags&net.FlagUp != 0}
		for _, a := range discovery.InterfaceAddrs([]net.Interface{ifc}) {
			ni.Addrs = append(ni.Addrs, a.String())
		}
		out = append(out, ni)
	}
	chosen, _ := n.Interfaces()
	for _, name := range chosen {
		if !slices.ContainsFunc(out, func(ni NetInterface) bool { return ni.Name == name }) {
			out = append(out, NetInterface{Name: name, Missing: true})
		}
	}
	return out, nil
}

func discoverable(ifc net.Interface) bool {
	return ifc.Flags&net.FlagMulticast != 0 && ifc.Flags&net.FlagLoopback == 0
}

// Interfaces returns the interfaces discovery and calls are restricted to
// (empty: all) and whether --iface chose them for this run.
func (n *Node) Interfaces() (names []string, byFlag bool) {
	if p := n.ifaces.Load(); p != nil {
		names = slices.Clone(*p)
	}
	return names, len(n.cfg.Ifaces) > 0
}

// SetInterfaces restricts discovery and calls to the named interfaces (none:
// all) and remembers the choice for later starts. Discovery picks it up at its
// next interface scan (2 s), calls from the next one. A --iface flag wins: while
// it is in force the choice cannot be changed.
func (n *Node) SetInterfaces(names []string) error {
	if len(n.cfg.Ifaces) > 0 {
		return errors.New("interfaces: set by --iface for this run; start without the flag to choose them here")
	}
	names, err := checkInterfaces(names)
	if err != nil {
		return err
	}
	if err := n.db.SetSetting(settingIfaces, strings.Join(names, ",")); err != nil {
		return fmt.Errorf("interfaces: %w", err)
	}
	n.ifaces.Store(&names)
	n.log.Info("interfaces chosen", "ifaces", orDefault(strings.Join(names, ","), "all"))
	return nil
}

// checkInterfaces accepts names of this machine's interfaces that discovery
// can use, without duplicates.
func checkInterfaces(names []string) ([]string, error) {
	all, err := listInterfaces()
	if err != nil {
		return nil, fmt.Errorf("interfaces: listing them: %w", err)
	}
	var out []string
	for _, name := range names {
		name = strings.TrimSpace(name)
		if name == "" || slices.Contains(out, name) {
			continue
		}
		i := slices.IndexFunc(all, func(ifc net.Interface) bool { return ifc.Name == name })
		switch {
		case i < 0:
			return nil, fmt.Errorf("interfaces: this machine has no interface %q", name)
		case all[i].Flags&net.FlagLoopback != 0:
			return nil, fmt.Errorf("interfaces: %s is the loopback interface; peers on other machines cannot be found there", name)
		case all[i].Flags&net.FlagMulticast == 0:
			return nil, fmt.Errorf("interfaces: %s cannot send multicast, which discovery needs", name)
		}
		out = append(out, name)
	}
	return out, nil
}

// loadIfaces picks the interfaces at start: --iface first, then the stored
// choice, else all. A stored interface that is missing now stays chosen (an
// adapter plugged in later is used); it is only logged.
func (n *Node) loadIfaces() error {
	names := n.cfg.Ifaces
	if len(names) == 0 {
		v, _, err := n.db.Setting(settingIfaces)
		if err != nil {
			return err
		}
		for _, name := range strings.Split(v, ",") {
			if name != "" {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			if _, err := checkInterfaces(names); err != nil {
				n.log.Warn("chosen interfaces", "ifaces", v, "err", err)
			}
		}
	}
	names = slices.Clone(names)
	n.ifaces.Store(&names)
	return nil
}

// keepIface is discovery's interface filter; it reads the current choice, so a
// change in the settings applies without a restart.
func (n *Node) keepIface(ifc net.Interface) bool { return n.keepIfaceName(ifc.Name) }

// keepIfaceName is the same filter for the call engine (ICE candidates).
func (n *Node) keepIfaceName(name string) bool {
	p := n.ifaces.Load()
	return p == nil || len(*p) == 0 || slices.Contains(*p, name)
}
