package overlay

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"time"

	"parley/identity"
)

func listen(addr string, anyPort bool) (net.Listener, error) {
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("link listener on %s: %w", addr, err)
		}
		return ln, nil
	}
	if !anyPort {
		if ln, err := net.Listen("tcp", fmt.Sprintf(":%d", DefaultPort)); err == nil {
			return ln, nil
		}
	}
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		return nil, fmt.Errorf("link listener: %w", err)
	}
	return ln, nil
}

func (o *Overlay) baseTLS() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{o.cert},
		NextProtos:   []string{"parley/1"},
	}
}

// handshakeTimeout bounds an inbound TLS handshake: a connection that has not
// finished it by then is closed and gives its handshake slot back.
const handshakeTimeout = 5 * time.Second

// accept runs the TLS handshake of a connection the gate admitted (raw holds its
// slot until closed) and makes it a link.
func (o *Overlay) accept(ctx context.Context, raw net.Conn, src netip.Addr) {
	cfg := o.baseTLS()
	cfg.ClientAuth = tls.RequireAnyClientCert
	cfg.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509Cert) error {
		_, _, err := identity.PeerFromCertificates(rawCerts)
		return err
	}
	conn := tls.Server(raw, cfg)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	err := conn.HandshakeContext(hctx)
	o.gate.handshakeDone(src)
	if err != nil {
		o.stats.Add("link_handshake_failed", 1)
		o.log.Debug("inbound handshake", "remote", raw.RemoteAddr(), "err", err)
		raw.Close()
		return
	}
	id, pub, err := identity.PeerFromCertificates(rawCertsOf(conn))
	if err != nil || id == o.cfg.Identity.ID {
		conn.Close()
		return
	}
	if !o.admit(conn, id, false) {
		return
	}
	o.register(conn, id, pub, false)
}
