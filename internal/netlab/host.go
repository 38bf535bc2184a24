package netlab

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// Host is one machine of the lab: a network namespace with one interface per
// attached segment.
type Host struct {
	Name string
	NS   string // network namespace name, for `ip netns exec`

	lab    *Lab
	index  int
	ifaces []*hostIface // guarded by lab.mu after setup
}

type hostIface struct {
	seg       *Segment
	name      string // eth0, eth1, ...
	peer      string // switch-side end, a port of seg's bridge
	ip        string
	primary   bool // carries the 224.0.0.0/4 route
	multicast bool
}

// setup runs with lab.mu held, before the host is visible to anyone.
func (h *Host) setup(segs []*Segment) error {
	// accept_dad=0 before the interfaces exist (default/*) so their IPv6
	// link-local addresses are usable immediately instead of after ~1 s DAD.
	if err := writeSysctls(h.NS, map[string]string{
		"net/ipv6/conf/all/accept_dad":     "0",
		"net/ipv6/conf/default/accept_dad": "0",
	}); err != nil {
		return err
	}
	if err := ipIn(h.NS, "link", "set", "dev", "lo", "up"); err != nil {
		return err
	}
	for i, seg := range segs {
		ifc := &hostIface{
			seg:       seg,
			name:      fmt.Sprintf("eth%d", i),
			ip:        fmt.Sprintf("10.77.%d.%d", seg.index, h.index+10),
			primary:   i == 0,
			multicast: true,
		}
		// Switch-side names only need to be unique within the lab's switch
		// namespace; "h<host>e<i>" stays far below the 15-char limit.
		peer := fmt.Sprintf("h%de%d", h.index, i)
		ifc.peer = peer
		// Created inside the host namespace with the peer placed straight into
		// the switch namespace: the root namespace never sees either end.
		steps := [][]string{
			{h.NS, "link", "add", "name", ifc.name, "type", "veth", "peer", "name", peer, "netns", h.lab.sw},
			{h.lab.sw, "link", "set", "dev", peer, "master", seg.Bridge, "up"},
			{h.NS, "addr", "add", ifc.ip + "/24", "dev", ifc.name},
			{h.NS, "link", "set", "dev", ifc.name, "up"},
		}
		if ifc.primary {
			steps = append(steps, []string{h.NS, "route", "add", "224.0.0.0/4", "dev", ifc.name})
		}
		for _, s := range steps {
			if err := ipIn(s[0], s[1:]...); err != nil {
				return err
			}
		}
		h.ifaces = append(h.ifaces, ifc)
	}
	return nil
}

func (h *Host) iface(seg *Segment) *hostIface {
	for _, ifc := range h.ifaces {
		if ifc.seg == seg {
			return ifc
		}
	}
	return nil
}

// IP is the host's IPv4 address on seg, or "" if it is not attached to seg.
func (h *Host) IP(seg *Segment) string {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	if ifc := h.iface(seg); ifc != nil {
		return ifc.ip
	}
	return ""
}

// Iface is the host's interface name on seg, or "" if it is not attached.
func (h *Host) Iface(seg *Segment) string {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	if ifc := h.iface(seg); ifc != nil {
		return ifc.name
	}
	return ""
}

// firstIface is the interface multicast leaves through ("" if none).
func (h *Host) firstIface() string {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	if len(h.ifaces) == 0 {
		return ""
	}
	return h.ifaces[0].name
}

// Run runs a command inside the host namespace and returns its combined
// output; a failure's error includes that output.
func (h *Host) Run(args ...string) ([]byte, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("netlab: %s: run: no command", h.Name)
	}
	out, err := h.Command(context.Background(), args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("netlab: %s: %s: %w: %s", h.Name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// Command prepares `ip netns exec NS name args...`. The lab does not track
// it; the caller starts, waits for and stops it. It dies with the test
// process (Pdeathsig) so it cannot outlive a crashed run.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// SetLink sets the host's interface on seg up or down, like pulling a cable
// (the switch side loses carrier too). Bringing it up restores the multicast
// route, which the kernel flushes on link down.
func (h *Host) SetLink(seg *Segment, up bool) error {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	ifc := h.iface(seg)
	if ifc == nil {
		return fmt.Errorf("netlab: %s: not attached to segment %q", h.Name, seg.Name)
	}
	state := "down"
	if up {
		state = "up"
	}
	if err := ipIn(h.NS, "link", "set", "dev", ifc.name, state); err != nil {
		return fmt.Errorf("netlab: %s: set link: %w", h.Name, err)
	}
	if up && ifc.primary && ifc.multicast {
		if err := ipIn(h.NS, "route", "replace", "224.0.0.0/4", "dev", ifc.name); err != nil {
			return fmt.Errorf("netlab: %s: set link: %w", h.Name, err)
		}
	}
	return nil
}

// SetMulticast simulates a network that does (not) carry multicast for this
// host on seg. Off means: the switch stops flooding multicast to the host's
// port (bridge mcast_flood off; IPv6 neighbour discovery to the host stops
// too, as on networks that filter multicast), the interface loses its
// MULTICAST flag and, on the first interface, the 224.0.0.0/4 route goes, so
// routed IPv4 multicast sends fail with ENETUNREACH. Sockets that pin the
// interface (IP_MULTICAST_IF, as SendUDP does) can still transmit: neither
// veth nor the bridge has a portable knob to drop a port's inbound multicast.
// Broadcast is unaffected.
func (h *Host) SetMulticast(seg *Segment, on bool) error {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	ifc := h.iface(seg)
	if ifc == nil {
		return fmt.Errorf("netlab: %s: not attached to segment %q", h.Name, seg.Name)
	}
	flag := "off"
	if on {
		flag = "on"
	}
	if err := ipIn(h.lab.sw, "link", "set", "dev", ifc.peer, "type", "bridge_slave", "mcast_flood", flag); err != nil {
		return fmt.Errorf("netlab: %s: set multicast: %w", h.Name, err)
	}
	if err := ipIn(h.NS, "link", "set", "dev", ifc.name, "multicast", flag); err != nil {
		return fmt.Errorf("netlab: %s: set multicast: %w", h.Name, err)
	}
	ifc.multicast = on
	if !ifc.primary {
		return nil
	}
	if on {
		if err := ipIn(h.NS, "route", "replace", "224.0.0.0/4", "dev", ifc.name); err != nil {
			return fmt.Errorf("netlab: %s: set multicast: %w", h.Name, err)
		}
		return nil
	}
	// The route may already be gone (e.g. the link was down); that is the
	// state we want anyway.
	if err := ipIn(h.NS, "route", "del", "224.0.0.0/4", "dev", ifc.name); err != nil &&
		!strings.Contains(err.Error(), "No such process") {
		return fmt.Errorf("netlab: %s: set multicast: %w", h.Name, err)
	}
	return nil
}
