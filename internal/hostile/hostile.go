// Package hostile is a test helper that plays a malicious node on the LAN. It
// speaks Parley's wire formats by hand, so it can break every rule an honest node
// keeps: beacons and records claiming someone else's key, replayed records, a TLS
// listener that answers for a peer ID whose key it does not hold, oversized and
// malformed frames, chat floods and thousands of throwaway identities.
//
// It runs inside a network namespace without a process of its own: every socket is
// created through a Doer (netlab.Host.Do), which runs a function on a thread that
// has joined the attacker's namespace. Sockets stay in the namespace they were made
// in, so the rest of the work (reads, writes, TLS) runs on ordinary goroutines.
// Everything it sends goes to addresses the caller gives it: the lab's own
// namespaces.
package hostile

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/mdns"
	"golang.org/x/sys/unix"

	"parley/chat"
	"parley/discovery"
	"parley/identity"
	"parley/internal/hlc"
	"parley/overlay"
)

// Doer runs fn on a thread inside the attacker's network namespace.
type Doer func(fn func() error) error

// Attacker is the hostile node: its own (valid) identity and namespace.
type Attacker struct {
	do Doer
	ID *identity.Identity
}

// New makes an attacker with a fresh identity.
func New(do Doer) (*Attacker, error) {
	id, err := identity.Generate()
	if err != nil {
		return nil, err
	}
	return &Attacker{do: do, ID: id}, nil
}

// Throwaway makes n fresh identities: the cheapest possible Sybils.
func Throwaway(n int) ([]*identity.Identity, error) {
	out := make([]*identity.Identity, n)
	for i := range out {
		id, err := identity.Generate()
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// ForgedBeacon is a beacon that claims victim's key but is signed by another one:
// what an attacker who does not hold the victim's key can produce.
func ForgedBeacon(victim ed25519.PublicKey, kind discovery.BeaconKind, port uint16, name string) ([]byte, error) {
	signer, err := identity.Generate()
	if err != nil {
		return nil, err
	}
	pkt := discovery.EncodeBeacon(signer, kind, uint64(time.Now().UnixMilli())+1e6, port, name)
	copy(pkt[6:6+ed25519.PublicKeySize], victim) // layout: magic, version, kind, key at 6
	return pkt, nil
}

// ValidBeacon is a correctly signed announce from id (a Sybil announcing itself).
func ValidBeacon(id *identity.Identity, port uint16, name string) []byte {
	return discovery.EncodeBeacon(id, discovery.KindAnnounce, uint64(time.Now().UnixMilli()), port, name)
}

// SendDatagrams sends pkts to dst (an IP:port literal; multicast leaves through
// iface with TTL 1) from one socket in the attacker's namespace, at most perSecond
// a second (0: as fast as the socket takes them). It returns how many were sent.
func (a *Attacker) SendDatagrams(dst, iface string, pkts [][]byte, perSecond int) (int, error) {
	ap, err := netip.ParseAddrPort(dst)
	if err != nil || !ap.Addr().Is4() {
		return 0, fmt.Errorf("hostile: send to %q: want an IPv4 literal with port", dst)
	}
	sent := 0
	err = a.do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if ap.Addr().IsMulticast() {
			ifi, err := net.InterfaceByName(iface)
			if err != nil {
				return err
			}
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, 1); err != nil {
				return err
			}
			if err := unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, &unix.IPMreqn{Ifindex: int32(ifi.Index)}); err != nil {
				return err
			}
		}
		sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
		var gap time.Duration
		if perSecond > 0 {
			gap = time.Second / time.Duration(perSecond)
		}
		next := time.Now()
		for _, p := range pkts {
			if err := unix.Sendto(fd, p, 0, sa); err != nil {
				if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) {
					time.Sleep(time.Millisecond) // the qdisc is full: a flood is allowed to lose some
					continue
				}
				return err
			}
			sent++
			if gap > 0 {
				next = next.Add(gap)
				time.Sleep(time.Until(next))
			}
		}
		return nil
	})
	return sent, err
}

// SignRecord is a valid peer record of id listing neighbours (RTT 1 ms each).
func SignRecord(id *identity.Identity, seq uint64, name string, neighbours []identity.PeerID) ([]byte, error) {
	rec := &overlay.Record{Seq: seq, Issued: time.Now(), Name: name}
	for _, nb := range neighbours {
		rec.Neighbours = append(rec.Neighbours, overlay.NeighbourInfo{ID: nb, RTT: time.Millisecond})
	}
	if err := rec.Sign(id); err != nil {
		return nil, err
	}
	return rec.Raw(), nil
}

// ForgedRecord is a record claiming victim as its author, with a signature by
// another key (so a high sequence number cannot help it).
func ForgedRecord(victim ed25519.PublicKey, name string) ([]byte, error) {
	signer, err := identity.Generate()
	if err != nil {
		return nil, err
	}
	raw, err := SignRecord(signer, uint64(time.Now().UnixMicro())+1e12, name, nil)
	if err != nil {
		return nil, err
	}
	copy(raw[1:1+ed25519.PublicKeySize], victim) // layout: version, then the author key
	return raw, nil
}

// Routed encodes a TypeRouted payload by hand, so it can be malformed at will.
func Routed(ttl uint8, dst, src identity.PeerID, inner uint8, body []byte) []byte {
	b := []byte{ttl}
	b = append(b, dst[:]...)
	b = append(b, src[:]...)
	b = append(b, inner)
	return append(b, body...)
}

// ChatMessage is a well-formed direct chat message frame body.
func ChatMessage(text string) []byte {
	now := time.Now()
	hlcNow := hlc.New(now.UnixMilli(), 0) // a plausible clock: the flood is judged on volume, not skew
	return chat.EncodeBody(chat.Body{Kind: chat.KindDirect, ID: chat.NewID(now), HLC: uint64(hlcNow), Sent: now, Text: text})
}

// Link is a hand-driven overlay link from the attacker to an honest node. It keeps
// the link alive the way the protocol asks (it answers pings), captures every record
// the honest side floods to it, and otherwise sends whatever it is told to.
type Link struct {
	conn   *tls.Conn
	closed chan struct{}
	once   sync.Once

	mu      sync.Mutex
	records map[identity.PeerID][][]byte // every version seen, oldest first
	pongs   map[uint64]chan struct{}
	nonce   atomic.Uint64
	rxBytes atomic.Uint64

	handlers map[uint8]func([]byte) // frames of other types (OnFrame, relay.go)
}

// Dial opens a TLS link to addr presenting as's certificate (valid: as's key is
// its own). The TCP socket is made inside the attacker's namespace.
func (a *Attacker) Dial(ctx context.Context, addr string, as *identity.Identity) (*Link, error) {
	conn, err := a.dialTLS(ctx, addr, as)
	if err != nil {
		return nil, err
	}
	l := &Link{conn: conn, closed: make(chan struct{}), records: map[identity.PeerID][][]byte{}, pongs: map[uint64]chan struct{}{}}
	go l.readLoop()
	return l, nil
}

// Close ends the link.
func (l *Link) Close() {
	l.once.Do(func() {
		close(l.closed)
		l.conn.Close()
	})
}

// Done is closed once the link is gone (either side closed it).
func (l *Link) Done() <-chan struct{} { return l.closed }

// Raw writes bytes as they are: frames of the caller's own making.
func (l *Link) Raw(b []byte) error {
	l.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := l.conn.Write(b)
	return err
}

// Frame writes one well-formed frame.
func (l *Link) Frame(typ uint8, payload []byte) error {
	return l.Raw(overlay.AppendFrame(nil, typ, payload))
}

// Header is a frame header with any version, type and declared length.
func Header(version, typ uint8, n uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{version, typ}, n)
}

// Sync sends a ping and waits for its pong. The honest node handles a link's frames
// in order, so once the pong is back every frame written before was processed.
func (l *Link) Sync(timeout time.Duration) error {
	n := l.nonce.Add(1) | 1<<63 // distinct from the honest side's nonces
	ch := make(chan struct{})
	l.mu.Lock()
	l.pongs[n] = ch
	l.mu.Unlock()
	ping := binary.BigEndian.AppendUint64(nil, n)
	ping = binary.BigEndian.AppendUint64(ping, uint64(time.Now().UnixMicro()))
	if err := l.Frame(overlay.TypePing, ping); err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-l.closed:
		return errors.New("hostile: link closed while waiting for a pong")
	case <-time.After(timeout):
		return fmt.Errorf("hostile: no pong within %v", timeout)
	}
}

// Records returns every version of author's record that the honest side sent.
func (l *Link) Records(author identity.PeerID) [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.records[author]...)
}

func (l *Link) readLoop() {
	defer l.Close()
	var hdr [6]byte
	for {
		if _, err := io.ReadFull(l.conn, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[2:])
		if n > overlay.MaxFrame {
			return // an honest node never sends one
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(l.conn, payload); err != nil {
			return
		}
		l.rxBytes.Add(uint64(6 + n))
		switch hdr[1] {
		case overlay.TypePing:
			// Answered so the honest side keeps the link (it drops silent ones).
			l.Frame(overlay.TypePong, payload)
		case overlay.TypePong:
			if len(payload) >= 8 {
				nonce := binary.BigEndian.Uint64(payload)
				l.mu.Lock()
				if ch := l.pongs[nonce]; ch != nil {
					close(ch)
					delete(l.pongs, nonce)
				}
				l.mu.Unlock()
			}
		case overlay.TypeRecord:
			if rec, err := overlay.DecodeRecord(payload); err == nil {
				l.mu.Lock()
				l.records[rec.ID()] = append(l.records[rec.ID()], payload)
				l.mu.Unlock()
			}
		default:
			l.dispatch(hdr[1], payload)
		}
	}
}

// Impostor answers for a peer ID whose key it does not hold: a DNS-SD responder
// announces claim at the impostor's address (DNS-SD TXT records are not signed),
// and a TLS listener there presents present's certificate. An honest node that
// dials claim must refuse the handshake.
type Impostor struct {
	ln       net.Listener
	srv      *mdns.Server
	attempts atomic.Int64
	done     chan struct{}
}

// Impostor starts the responder on iface (whose first IPv4 address it announces)
// and the listener on that address.
func (a *Attacker) Impostor(claim identity.PeerID, present *identity.Identity, iface string) (*Impostor, error) {
	cert, err := present.TLSCertificate()
	if err != nil {
		return nil, err
	}
	imp := &Impostor{done: make(chan struct{})}
	err = a.do(func() error {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		var ip net.IP
		addrs, _ := ifi.Addrs()
		for _, ad := range addrs {
			if ipn, ok := ad.(*net.IPNet); ok && ipn.IP.To4() != nil {
				ip = ipn.IP.To4()
				break
			}
		}
		if ip == nil {
			return fmt.Errorf("no IPv4 address on %s", iface)
		}
		imp.ln, err = net.Listen("tcp4", net.JoinHostPort(ip.String(), "0"))
		if err != nil {
			return err
		}
		port := imp.ln.Addr().(*net.TCPAddr).Port
		instance := claim.String() + "-" + iface
		txt := discovery.EncodeTXT(discovery.ServiceInfo{ID: claim, Port: uint16(port), Name: "impostor"})
		zone, err := mdns.NewMDNSService(instance, discovery.ServiceType, "local.", instance+".local.", port, []net.IP{ip}, txt)
		if err != nil {
			imp.ln.Close()
			return err
		}
		imp.srv, err = mdns.NewServer(&mdns.Config{Zone: zone, Iface: ifi, Logger: log.New(io.Discard, "", 0)})
		if err != nil {
			imp.ln.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hostile: impostor: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		NextProtos: []string{"parley/1"}, ClientAuth: tls.RequireAnyClientCert}
	go func() {
		defer close(imp.done)
		for {
			c, err := imp.ln.Accept()
			if err != nil {
				return
			}
			imp.attempts.Add(1)
			go func() {
				defer c.Close()
				tc := tls.Server(c, cfg)
				tc.SetDeadline(time.Now().Add(5 * time.Second))
				_ = tc.Handshake() // the dialer is expected to abort it
			}()
		}
	}()
	return imp, nil
}

// Attempts is how many connections honest nodes opened to the impostor.
func (imp *Impostor) Attempts() int64 { return imp.attempts.Load() }

// Close stops the responder and the listener.
func (imp *Impostor) Close() {
	imp.srv.Shutdown()
	imp.ln.Close()
	<-imp.done
}
