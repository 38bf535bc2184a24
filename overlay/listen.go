package overlay

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// The link listener does not bind the wildcard address when the node says which
// addresses are its own (Config.ListenOn): a wildcard socket answers on every
// interface, including a global IPv6 address reachable from the Internet, a VPN
// or a container bridge the user never chose (issue 16). Instead it binds each
// address of the interfaces in use, all on one port, plus 127.0.0.1, which fixes
// the port before the interfaces are known and serves local tools; it re-reads
// the addresses every relistenEvery and binds new ones, closing sockets of
// addresses that went. Links already accepted on a closed socket stay up.
//
// Binding narrows where we listen; Config.AcceptFrom narrows whom we accept
// from (on-link sources only), since an interface in use may still carry a
// global address.

// relistenEvery is how often the address set is re-read: the pace at which
// discovery re-reads interfaces, so both see a new address at about the same time.
const relistenEvery = 2 * time.Second

// addrListener is a net.Listener over one socket per address, all on one port.
type addrListener struct {
	port uint16
	want func() []netip.Addr
	log  *slog.Logger

	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once

	mu     sync.Mutex
	socks  map[netip.Addr]net.Listener
	failed map[netip.Addr]bool // logged once until the bind works
	wg     sync.WaitGroup
}

// listenOn opens the loopback socket on DefaultPort (any port if that is taken,
// or at once with anyPort); the rest are bound by sync.
func listenOn(want func() []netip.Addr, anyPort bool, log *slog.Logger) (*addrListener, error) {
	lo := netip.MustParseAddr("127.0.0.1")
	port := uint16(DefaultPort)
	if anyPort {
		port = 0
	}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(lo, port).String())
	if err != nil {
		if ln, err = net.Listen("tcp", netip.AddrPortFrom(lo, 0).String()); err != nil {
			return nil, fmt.Errorf("link listener: %w", err)
		}
	}
	l := &addrListener{
		port: uint16(ln.Addr().(*net.TCPAddr).Port), want: want, log: log,
		conns: make(chan net.Conn), closed: make(chan struct{}),
		socks: map[netip.Addr]net.Listener{}, failed: map[netip.Addr]bool{},
	}
	l.add(lo, ln)
	return l, nil
}

// add starts accepting on ln; caller holds mu or owns l alone.
func (l *addrListener) add(a netip.Addr, ln net.Listener) {
	l.socks[a] = ln
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				l.log.Warn("accept", "addr", a, "err", err)
				select {
				case <-l.closed:
					return
				case <-time.After(50 * time.Millisecond):
				}
				continue
			}
			select {
			case l.conns <- c:
			case <-l.closed:
				c.Close()
				return
			}
		}
	}()
}

// sync binds the wanted addresses not bound yet and closes the sockets of
// addresses no longer wanted (loopback stays).
func (l *addrListener) sync() {
	want := map[netip.Addr]bool{netip.MustParseAddr("127.0.0.1"): true}
	for _, a := range l.want() {
		want[a] = true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.closed:
		return
	default:
	}
	for a, ln := range l.socks {
		if !want[a] {
			ln.Close()
			delete(l.socks, a)
			l.log.Info("link listener closed", "addr", a)
		}
	}
	for a := range want {
		if l.socks[a] != nil {
			continue
		}
		ln, err := net.Listen("tcp", netip.AddrPortFrom(a, l.port).String())
		if err != nil {
			// A tentative IPv6 address (duplicate address detection) binds a
			// moment later; another program may hold the port on this address.
			if !l.failed[a] {
				l.log.Warn("link listener", "addr", a, "port", l.port, "err", err)
				l.failed[a] = true
			}
			continue
		}
		delete(l.failed, a)
		l.add(a, ln)
		l.log.Debug("link listener", "addr", a, "port", l.port)
	}
	for a := range l.failed {
		if !want[a] {
			delete(l.failed, a)
		}
	}
}

// run re-binds every relistenEvery until the listener is closed.
func (l *addrListener) run() {
	l.sync()
	t := time.NewTicker(relistenEvery)
	defer t.Stop()
	for {
		select {
		case <-l.closed:
			return
		case <-t.C:
			l.sync()
		}
	}
}

// Bound lists the addresses a socket is bound to now.
func (l *addrListener) Bound() []netip.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]netip.Addr, 0, len(l.socks))
	for a := range l.socks {
		out = append(out, a)
	}
	return out
}

func (l *addrListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *addrListener) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.mu.Lock()
		for a, ln := range l.socks {
			ln.Close()
			delete(l.socks, a)
		}
		l.mu.Unlock()
	})
	l.wg.Wait()
	return nil
}

// Addr is the wildcard address with the port: the listener answers on several
// addresses, and AdvertisedAddrs lists the interface addresses for an
// unspecified one.
func (l *addrListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv6unspecified, Port: int(l.port)}
}
