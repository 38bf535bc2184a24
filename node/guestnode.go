package node

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"parley/identity"
	"parley/internal/team"
)

// guestConfig is what only a host sets on its guest's node (Config.guest).
type guestConfig struct {
	// identity comes from the browser's seed and lives in memory only: the
	// guest's data dir holds no key file.
	identity *identity.Identity
	via      identity.PeerID // the host, published as RecordExtVia
	// teamKey is the host's: deriving it again (Argon2id, 64 MiB) per guest
	// would cost more than the guest's whole node.
	teamKey *team.Key
	// sip: a registered phone (devices.go), published as RecordExtDevice.
	sip bool
}

// loadIdentity is the node's key: a guest's from its seed, else the key file.
func loadIdentity(cfg Config) (*identity.Identity, error) {
	if cfg.guest != nil {
		return cfg.guest.identity, nil
	}
	return identity.LoadOrCreate(cfg.DataDir)
}

// guestDir is where a guest's store, history and downloads live on this host:
// kept across visits, so a guest that comes back has its history.
func (n *Node) guestDir(id identity.PeerID) string {
	return filepath.Join(n.cfg.DataDir, "guests", id.String())
}

// guestDialTimeout bounds the guest node's first link to its host.
const guestDialTimeout = 5 * time.Second

// startGuestNode makes and starts a guest's node beside this one: no discovery
// (peers learn of it through records), no TURN relay (it relays for nobody),
// ports the OS picks, the host's team and interfaces, the browser's audio
// (node/guestmedia.go), and a first link to its host.
func (n *Node) startGuestNode(gid *identity.Identity, name string, sip bool) (*Node, error) {
	dir := n.guestDir(gid.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("guest: %w", err)
	}
	var ifaces []string
	if p := n.ifaces.Load(); p != nil {
		ifaces = slices.Clone(*p)
	}
	child, err := New(Config{
		DataDir: dir, Name: name, Listen: guestListen(n.cfg.Listen), AcceptAny: n.cfg.AcceptAny,
		Ifaces: ifaces, Power: n.cfg.Power, ProbeInterval: n.cfg.ProbeInterval,
		QualityInterval: n.cfg.QualityInterval, Downloads: filepath.Join(dir, "downloads"),
		AudioIn: "null", AudioOut: "null", RingTimeout: n.cfg.RingTimeout,
		Team: n.cfg.Team, Guests: "off",
		Log: n.log.With("guest", gid.ID.Short()), Now: n.cfg.Now,
		guest: &guestConfig{identity: gid, via: n.id.ID, teamKey: n.teamKey, sip: sip},
	})
	if err != nil {
		return nil, fmt.Errorf("guest: %w", err)
	}
	// Calls hear and speak through the browser (ConnectMedia), silence until
	// its page connects: never the host's own sound devices.
	child.useBrowserAudio()
	if err := child.Start(context.Background()); err != nil {
		child.Stop()
		return nil, fmt.Errorf("guest: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guestDialTimeout)
	defer cancel()
	if err := child.ov.Dial(ctx, n.id.ID, n.linkAddrs()); err != nil {
		// Not fatal: its reconnect loop tries again once it knows the host.
		n.log.Warn("guest could not reach its host", "guest", gid.ID.Short(), "err", err)
	}
	return child, nil
}

// guestListen is a guest node's Listen: the host's address with port 0, or ""
// (the host's interfaces in use, any port: overlay.Config.AnyPort).
func guestListen(hostListen string) string {
	if hostListen == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(hostListen)
	if err != nil {
		return ""
	}
	return net.JoinHostPort(host, "0")
}

// linkAddrs are addresses this node's listener answers on, loopback first (a
// guest's node dials its host within one machine).
func (n *Node) linkAddrs() []netip.AddrPort {
	lo := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), n.ov.Port())
	addrs := n.ov.AdvertisedAddrs()
	if !slices.Contains(addrs, lo) && (n.cfg.Listen == "" || isLoopbackListen(n.cfg.Listen)) {
		addrs = append([]netip.AddrPort{lo}, addrs...)
	}
	return addrs
}

func isLoopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// siblingGuest says whether id is another guest of this guest node's host. A
// guest's node does not link to those: both ends would be in the host's
// process, and they reach each other through the host (one hop on loopback)
// as well. Each link costs about 130 KB at each end (two 64 KiB buffers and
// TLS's), so with 10 guests the links among them were most of what the guests
// cost their host (TestGuestIdleMemory: heap 17 MB for 10 guests, before).
func (n *Node) siblingGuest(id identity.PeerID) bool {
	if n.cfg.guest == nil {
		return false
	}
	rec := n.ov.RecordOf(id)
	if rec == nil {
		return false
	}
	via, ok := decodeVia(extValue(rec, recordExtVia))
	return ok && via == n.cfg.guest.via
}

// guestLinkBuffer is a guest's node's link buffer size (overlay.Config.LinkBuffer):
// one TLS record. The default 64 KiB read and write buffers per link were most
// of an idle guest's cost once it linked to the peers of a LAN
// (TestGuestIdleMemoryOnALAN).
const guestLinkBuffer = 16 << 10

// linkBuffer is cfg's overlay link buffer size (0: the overlay's default).
func linkBuffer(cfg Config) int {
	if cfg.guest != nil {
		return guestLinkBuffer
	}
	return 0
}
