package overlay

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"parley/identity"
	"parley/internal/clockwait"
)

// ErrWrongKey means the peer at an address did not hold the key of the ID we expected.
var ErrWrongKey = errors.New("peer key does not match the discovered peer ID")

// Dial connects to id at the first address that answers. Addresses are tried in
// parallel with a small stagger (happy eyeballs), because a cached or foreign-segment
// address may hang until its timeout while another answers at once.
func (o *Overlay) Dial(ctx context.Context, id identity.PeerID, addrs []netip.AddrPort) error {
	if id == o.cfg.Identity.ID {
		return errors.New("refusing to dial self")
	}
	if id.IsZero() {
		// dialOne reads a zero ID as "accept any key"; here the link would then be
		// filed under the zero ID whoever answered. DialAddr is the way to do that.
		return errors.New("refusing to dial the zero peer ID")
	}
	o.mu.Lock()
	if o.links[id] != nil || o.dialing[id] || o.stopping {
		o.mu.Unlock()
		return nil
	}
	o.dialing[id] = true
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		delete(o.dialing, id)
		o.mu.Unlock()
	}()
	addrs = slices.Compact(sortAddrs(addrs))
	if len(addrs) == 0 {
		return fmt.Errorf("dial %s: no addresses", id.Short())
	}
	ctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	type result struct {
		conn *tls.Conn
		pub  ed25519.PublicKey
		err  error
	}
	results := make(chan result, len(addrs))
	for i, ap := range addrs {
		go func() {
			if !clockwait.Sleep(ctx, time.Duration(i)*200*time.Millisecond) {
				results <- result{err: ctx.Err()}
				return
			}
			conn, pub, err := o.dialOne(ctx, id, ap)
			results <- result{conn, pub, err}
		}()
	}
	var errs []error
	var won, refused bool
	for range addrs {
		r := <-results
		switch {
		case r.err != nil:
			errs = append(errs, r.err)
		case won:
			r.conn.Close()
		default:
			won = true
			cancel()
			if o.admit(r.conn, id, true) {
				o.register(r.conn, id, r.pub, true)
			} else {
				refused = true
			}
		}
	}
	if refused {
		return fmt.Errorf("dial %s: link refused (blocked, or no team proof)", id.Short())
	}
	if won {
		return nil
	}
	o.stats.Add("link_dial_failed", 1)
	return fmt.Errorf("dial %s: %w", id.Short(), errors.Join(errs...))
}

func (o *Overlay) dialOne(ctx context.Context, want identity.PeerID, ap netip.AddrPort) (*tls.Conn, ed25519.PublicKey, error) {
	var raw net.Conn
	var err error
	if o.dialConn != nil {
		raw, err = o.dialConn(ctx, ap)
	} else {
		d := net.Dialer{Timeout: 3 * time.Second}
		raw, err = d.DialContext(ctx, "tcp", ap.String())
	}
	if err != nil {
		return nil, nil, err
	}
	cfg := o.baseTLS()
	// Certificates are self-signed identity keys, so chain verification is replaced
	// by the check that matters: the key hashes to the ID we meant to reach.
	cfg.InsecureSkipVerify = true
	cfg.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509Cert) error {
		got, _, err := identity.PeerFromCertificates(rawCerts)
		if err != nil {
			return err
		}
		if !want.IsZero() && got != want {
			o.stats.Add("link_wrong_key", 1)
			return fmt.Errorf("%w: %s presented %s, expected %s", ErrWrongKey, ap, got.Short(), want.Short())
		}
		return nil
	}
	limitUnsent(raw)
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, nil, fmt.Errorf("handshake with %s: %w", ap, err)
	}
	_, pub, _ := identity.PeerFromCertificates(rawCertsOf(conn))
	return conn, pub, nil
}

// DialAddr connects to whoever answers at ap (adding a peer by address, where no ID is
// known yet) and returns the peer's ID, proven by the handshake.
func (o *Overlay) DialAddr(ctx context.Context, ap netip.AddrPort) (identity.PeerID, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, pub, err := o.dialOne(ctx, identity.PeerID{}, ap)
	if err != nil {
		return identity.PeerID{}, fmt.Errorf("add peer %s: %w", ap, err)
	}
	id := identity.IDFromPublicKey(pub)
	if id == o.cfg.Identity.ID {
		conn.Close()
		return id, fmt.Errorf("add peer %s: that address is this node", ap)
	}
	if o.Linked(id) {
		conn.Close()
		return id, nil
	}
	if !o.admit(conn, id, true) {
		return id, fmt.Errorf("link to %s refused (blocked, or no team proof)", id.Short())
	}
	o.register(conn, id, pub, true)
	return id, nil
}

// sortAddrs puts IPv4 first (cheapest to reach on a LAN), then IPv6.
func sortAddrs(addrs []netip.AddrPort) []netip.AddrPort {
	out := slices.Clone(addrs)
	slices.SortStableFunc(out, func(a, b netip.AddrPort) int {
		a4, b4 := a.Addr().Unmap().Is4(), b.Addr().Unmap().Is4()
		switch {
		case a4 && !b4:
			return -1
		case b4 && !a4:
			return 1
		}
		return a.Compare(b)
	})
	return out
}
