package node

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"

	"parley/identity"
	"parley/overlay"
)

// SetPresence changes this node's presence and status text and publishes them.
func (n *Node) SetPresence(status, text string) error {
	p, err := overlay.ParsePresence(status)
	if err != nil {
		return err
	}
	n.mu.Lock()
	prof := n.profile
	prof.Presence, prof.Status = p, text
	n.mu.Unlock()
	if err := n.ov.SetProfile(prof); err != nil {
		return err
	}
	n.mu.Lock()
	n.profile = prof
	n.mu.Unlock()
	if err := n.db.SetSetting("presence", status); err != nil {
		return err
	}
	return n.db.SetSetting("status", text)
}

// SetName changes the display name.
func (n *Node) SetName(name string) error {
	if name == "" {
		return fmt.Errorf("display name is empty")
	}
	n.mu.Lock()
	prof := n.profile
	prof.Name = name
	n.mu.Unlock()
	if err := n.ov.SetProfile(prof); err != nil {
		return err
	}
	n.mu.Lock()
	n.profile = prof
	n.mu.Unlock()
	n.disc.Announce()
	return n.db.SetSetting("name", name)
}

// Send writes a 1:1 message and returns its ID once it is stored; it is delivered
// directly, through other peers, or later from the outbox (a "queued" event) when the
// peer is away. A "delivered" event follows the recipient's commit.
func (n *Node) Send(to, text string) (string, error) {
	id, err := identity.ParsePeerID(to)
	if err != nil {
		return "", err
	}
	m, err := n.chat.Send(id, text)
	return m.ID, err
}

// AddPeer connects to a peer by host:port (for networks where discovery cannot
// work); the peer is then kept in the roster and reconnected on later starts.
func (n *Node) AddPeer(ctx context.Context, addr string) (string, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("add peer: %q is not host:port: %w", addr, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return "", fmt.Errorf("add peer: bad port %q", portText)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if lerr != nil || len(ips) == 0 {
			return "", fmt.Errorf("add peer: cannot resolve %q: %w", host, lerr)
		}
		ip = ips[0]
	}
	id, err := n.ov.DialAddr(ctx, netip.AddrPortFrom(ip.Unmap(), uint16(port)))
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// Self describes this node.
func (n *Node) Self() Ready { return n.readyEvent() }

// Stats merges the counters of all parts of the node.
func (n *Node) Stats() map[string]uint64 {
	out := n.stats.Snapshot()
	for k, v := range n.disc.Stats() {
		out[k] = v
	}
	for k, v := range n.ov.Stats() {
		out[k] = v
	}
	for k, v := range n.qual.Stats() {
		out[k] = v
	}
	if n.turn != nil {
		for k, v := range n.turn.Stats() {
			out["turn_"+k] = v
		}
	}
	// A gauge, not a counter: soak runs watch it for a growth trend (leaks).
	out["go_goroutines"] = uint64(runtime.NumGoroutine())
	return out
}

// Links describes the direct links and their measured quality.
func (n *Node) Links() []Link { return views(n.ov.Links(), linkView) }

// Presence is this node's own presence and status text.
func (n *Node) Presence() (status, text string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.profile.Presence.String(), n.profile.Status
}
