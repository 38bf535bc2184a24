package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"parley/internal/counters"
)

// Beacon groups and port.
var (
	BeaconGroup4 = netip.MustParseAddr("239.255.80.76")
	BeaconGroup6 = netip.MustParseAddr("ff02::7061:726c")
)

// BeaconPort is the UDP port beacons use.
const BeaconPort = 48555

// recvQueue is how many received datagrams wait for the consumer before new ones
// are dropped (and counted as beacon_drop_queue).
const recvQueue = 64

// BeaconTransport is the edge between the beacon logic and the network, so tests can
// run beacons over an in-memory hub.
type BeaconTransport interface {
	// Send transmits pkt on every interface the transport covers.
	Send(pkt []byte) error
	// Recv blocks for the next packet; it returns an error once closed.
	Recv(buf []byte) (int, netip.Addr, error)
	// SetInterfaces (re)joins the groups on exactly these interfaces.
	SetInterfaces(ifcs []net.Interface)
	Close() error
}

// multicastTransport sends and receives beacons on real interfaces, over IPv4 and
// IPv6 sockets shared by all interfaces (joined per interface).
type multicastTransport struct {
	port int
	log  *slog.Logger
	v4   *ipv4.PacketConn
	v6   *ipv6.PacketConn
	c4   net.PacketConn
	c6   net.PacketConn
	recv chan packet
	done chan struct{}
	once sync.Once
	// stats is the Service's counter set: a datagram dropped here never reaches
	// HandleBeacon, so it would otherwise be missing from beacon_received too.
	stats *counters.Set

	mu     sync.Mutex
	ifaces []net.Interface
	joined map[int]bool
	// onLink holds the on-link subnets of the interfaces in use; a datagram
	// from a source outside them is dropped (beacon_drop_source, see OnLink).
	// Nil accepts every source (tests that build a transport by hand).
	onLink map[int][]netip.Prefix
}

type packet struct {
	data []byte
	src  netip.Addr
}

// NewMulticastTransport opens the beacon sockets. Either family may be missing (an
// IPv6-less host); it fails only if neither works. Datagrams dropped because the
// consumer lags are counted in stats as beacon_drop_queue (nil: not counted).
func NewMulticastTransport(port int, log *slog.Logger, stats *counters.Set) (BeaconTransport, error) {
	if stats == nil {
		stats = new(counters.Set)
	}
	t := &multicastTransport{port: port, log: log, recv: make(chan packet, recvQueue), done: make(chan struct{}), joined: map[int]bool{}, stats: stats,
		onLink: map[int][]netip.Prefix{}} // nothing is on-link until SetInterfaces
	lc := net.ListenConfig{Control: reusePort}
	var err4, err6 error
	if t.c4, err4 = lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", port)); err4 == nil {
		t.v4 = ipv4.NewPacketConn(t.c4)
		err4 = errors.Join(t.v4.SetMulticastTTL(1), t.v4.SetMulticastLoopback(true))
	}
	if t.c6, err6 = lc.ListenPacket(context.Background(), "udp6", fmt.Sprintf("[::]:%d", port)); err6 == nil {
		t.v6 = ipv6.NewPacketConn(t.c6)
		err6 = errors.Join(t.v6.SetMulticastHopLimit(1), t.v6.SetMulticastLoopback(true))
	}
	if err4 != nil && err6 != nil {
		t.Close()
		return nil, fmt.Errorf("beacon sockets: udp4: %v; udp6: %w", err4, err6)
	}
	if err4 != nil {
		log.Warn("beacons without IPv4", "err", err4)
		t.v4 = nil
	}
	if err6 != nil {
		log.Warn("beacons without IPv6", "err", err6)
		t.v6 = nil
	}
	// The receiving interface comes with each datagram (IP_PKTINFO,
	// IPV6_RECVPKTINFO), so a source is judged against that interface's subnets.
	if t.c4 != nil && t.v4 != nil {
		if err := t.v4.SetControlMessage(ipv4.FlagInterface, true); err != nil {
			log.Debug("beacons: no receiving interface on IPv4", "err", err)
		}
		go t.readLoopFrom(t.c4, func(b []byte) (int, int, net.Addr, error) {
			n, cm, src, err := t.v4.ReadFrom(b)
			if cm == nil {
				return n, 0, src, err
			}
			return n, cm.IfIndex, src, err
		})
	}
	if t.c6 != nil && t.v6 != nil {
		if err := t.v6.SetControlMessage(ipv6.FlagInterface, true); err != nil {
			log.Debug("beacons: no receiving interface on IPv6", "err", err)
		}
		go t.readLoopFrom(t.c6, func(b []byte) (int, int, net.Addr, error) {
			n, cm, src, err := t.v6.ReadFrom(b)
			if cm == nil {
				return n, 0, src, err
			}
			return n, cm.IfIndex, src, err
		})
	}
	return t, nil
}

// readLoop moves datagrams to the shared channel, dropping when the consumer lags
// (a flood must not block the socket reader or grow memory).
func (t *multicastTransport) readLoop(c net.PacketConn) {
	t.readLoopFrom(c, func(b []byte) (int, int, net.Addr, error) {
		n, src, err := c.ReadFrom(b)
		return n, 0, src, err
	})
}

// readLoopFrom is readLoop with a read that also says which interface the
// datagram arrived on (0: unknown).
func (t *multicastTransport) readLoopFrom(c net.PacketConn, read func([]byte) (n, ifIndex int, src net.Addr, err error)) {
	buf := make([]byte, MaxBeaconSize+1)
	for {
		n, ifIndex, addr, err := read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		ua, ok := addr.(*net.UDPAddr)
		if !ok {
			continue
		}
		src, _ := netip.AddrFromSlice(ua.IP)
		src = src.Unmap()
		if ua.Zone != "" && src.Is6() {
			src = src.WithZone(ua.Zone)
		}
		if !t.fromOnLink(ifIndex, src) {
			t.stats.Add("beacon_drop_source", 1)
			continue
		}
		t.enqueue(packet{data: append([]byte(nil), buf[:n]...), src: src})
	}
}

// enqueue hands p to Recv without blocking; when the queue is full p is dropped and
// counted, so a flood shows up in Stats instead of vanishing.
func (t *multicastTransport) enqueue(p packet) {
	select {
	case t.recv <- p:
	default:
		t.stats.Add("beacon_drop_queue", 1)
	}
}

func (t *multicastTransport) Recv(buf []byte) (int, netip.Addr, error) {
	select {
	case p := <-t.recv:
		return copy(buf, p.data), p.src, nil
	case <-t.done:
		return 0, netip.Addr{}, net.ErrClosed
	}
}

// fromOnLink reports whether a datagram from src that arrived on ifIndex may be
// read (see OnLink).
func (t *multicastTransport) fromOnLink(ifIndex int, src netip.Addr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.onLink == nil || OnLink(t.onLink, ifIndex, src)
}

func (t *multicastTransport) SetInterfaces(ifcs []net.Interface) {
	nets := InterfacePrefixes(ifcs)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ifaces = ifcs
	t.onLink = nets
	for _, ifc := range ifcs {
		if t.joined[ifc.Index] {
			continue
		}
		ifc := ifc
		var err4, err6 error
		if t.v4 != nil {
			err4 = t.v4.JoinGroup(ifacePtr(ifc), &net.UDPAddr{IP: BeaconGroup4.AsSlice()})
		}
		if t.v6 != nil {
			err6 = t.v6.JoinGroup(ifacePtr(ifc), &net.UDPAddr{IP: BeaconGroup6.AsSlice()})
		}
		if err4 != nil || err6 != nil {
			t.log.Debug("beacon join", "iface", ifc.Name, "v4", err4, "v6", err6)
		}
		t.joined[ifc.Index] = err4 == nil || err6 == nil
	}
}

func (t *multicastTransport) Send(pkt []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for _, ifc := range t.ifaces {
		ifc := ifc
		if t.v4 != nil {
			if err := setMulticastIface(t.v4.SetMulticastInterface, ifc); err == nil {
				_, err = t.v4.WriteTo(pkt, nil, &net.UDPAddr{IP: BeaconGroup4.AsSlice(), Port: t.port})
				errs = append(errs, err)
			}
		}
		if t.v6 != nil {
			if err := setMulticastIface(t.v6.SetMulticastInterface, ifc); err == nil {
				_, err = t.v6.WriteTo(pkt, nil, &net.UDPAddr{IP: BeaconGroup6.AsSlice(), Port: t.port, Zone: zoneOf(ifc)})
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("send beacon: %w", err)
	}
	return nil
}

func (t *multicastTransport) Close() error {
	t.once.Do(func() { close(t.done) })
	var errs []error
	if t.c4 != nil {
		errs = append(errs, t.c4.Close())
	}
	if t.c6 != nil {
		errs = append(errs, t.c6.Close())
	}
	return errors.Join(errs...)
}
