package hostile

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"parley/identity"
	"parley/overlay"
)

// Link-level resource attacks: a peer that makes the honest side hold memory for
// it. Pings are echoed as pongs, so a peer that sends large pings and reads the
// echoes slowly makes the honest side queue the echoes; many links from throwaway
// keys multiply whatever one link costs; TCP connections that never finish the
// TLS handshake hold a handshake slot each until it times out.

// SlowLink is a TLS link from the attacker that reads what the honest side sends
// at a bounded rate (a slow reader), and sends pings of any size.
type SlowLink struct {
	conn    *tls.Conn
	readBps int
	closed  chan struct{}
	once    sync.Once
	rxBytes atomic.Uint64
	pings   atomic.Uint64
	nonce   atomic.Uint64
}

// dialTLS opens a TCP connection from the attacker's namespace and runs the TLS
// handshake presenting as's certificate.
func (a *Attacker) dialTLS(ctx context.Context, addr string, as *identity.Identity) (*tls.Conn, error) {
	cert, err := as.TLSCertificate()
	if err != nil {
		return nil, err
	}
	var raw net.Conn
	err = a.do(func() error {
		d := net.Dialer{Timeout: 5 * time.Second}
		raw, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("hostile: dial %s: %w", addr, err)
	}
	conn := tls.Client(raw, &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		NextProtos: []string{"parley/1"}, InsecureSkipVerify: true, // we attack, we do not verify
	})
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := conn.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("hostile: handshake with %s: %w", addr, err)
	}
	return conn, nil
}

// DialSlow opens a link to addr as as, reading at most readBps bytes a second of
// what the honest side sends (0: never reading, so its writes stall).
func (a *Attacker) DialSlow(ctx context.Context, addr string, as *identity.Identity, readBps int) (*SlowLink, error) {
	conn, err := a.dialTLS(ctx, addr, as)
	if err != nil {
		return nil, err
	}
	s := &SlowLink{conn: conn, readBps: readBps, closed: make(chan struct{})}
	go s.readLoop()
	return s, nil
}

// readLoop drains the connection at readBps: 4 KiB at a time, each followed by the
// pause that keeps the average rate. A read error (the honest side closed the
// link) ends the link.
func (s *SlowLink) readLoop() {
	defer s.Close()
	if s.readBps <= 0 {
		<-s.closed
		return
	}
	buf := make([]byte, 4<<10)
	pause := time.Duration(float64(len(buf)) / float64(s.readBps) * float64(time.Second))
	for {
		n, err := s.conn.Read(buf)
		s.rxBytes.Add(uint64(n))
		if err != nil {
			return
		}
		select {
		case <-s.closed:
			return
		case <-time.After(pause):
		}
	}
}

// Ping sends a ping frame whose payload is size bytes (an honest ping is 16:
// nonce and clock); the honest side used to echo any size back as a pong.
func (s *SlowLink) Ping(size int) error {
	p := make([]byte, size)
	if size >= 8 {
		binary.BigEndian.PutUint64(p, s.nonce.Add(1)|1<<63)
	}
	s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := s.conn.Write(overlay.AppendFrame(nil, overlay.TypePing, p))
	if err == nil {
		s.pings.Add(1)
	}
	return err
}

// Frame writes one frame of the attacker's choosing.
func (s *SlowLink) Frame(typ uint8, payload []byte) error {
	s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := s.conn.Write(overlay.AppendFrame(nil, typ, payload))
	return err
}

// Pings is how many pings were written.
func (s *SlowLink) Pings() uint64 { return s.pings.Load() }

// Received is how many bytes were read from the honest side.
func (s *SlowLink) Received() uint64 { return s.rxBytes.Load() }

// Done is closed once the link is gone.
func (s *SlowLink) Done() <-chan struct{} { return s.closed }

// Close ends the link.
func (s *SlowLink) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.conn.Close()
	})
}

// HalfOpen keeps up to n TCP connections to addr open without ever starting TLS,
// each holding one of the honest side's handshake slots until it gives up; a
// connection the honest side closes is replaced after retry. It returns when ctx
// ends, closing them all, with the number of connections it opened.
func (a *Attacker) HalfOpen(ctx context.Context, addr string, n int, retry time.Duration) int64 {
	var opened atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var c net.Conn
				err := a.do(func() error {
					d := net.Dialer{Timeout: 3 * time.Second}
					var err error
					c, err = d.DialContext(ctx, "tcp", addr)
					return err
				})
				if err == nil {
					opened.Add(1)
					done := make(chan struct{})
					go func() {
						// A read returns when the honest side closes (or ctx closes c).
						var b [1]byte
						c.Read(b[:])
						close(done)
					}()
					select {
					case <-ctx.Done():
					case <-done:
					}
					c.Close()
				}
				select {
				case <-ctx.Done():
				case <-time.After(retry):
				}
			}
		}()
	}
	wg.Wait()
	return opened.Load()
}
