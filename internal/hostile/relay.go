package hostile

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v2"
)

// OnFrame has fn called, on the link's reader goroutine, with the payload of
// every frame of type typ the honest side sends (types the link handles itself
// — ping, pong, record — excepted). One handler per type; nil removes it.
func (l *Link) OnFrame(typ uint8, fn func(payload []byte)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.handlers == nil {
		l.handlers = map[uint8]func([]byte){}
	}
	if fn == nil {
		delete(l.handlers, typ)
		return
	}
	l.handlers[typ] = fn
}

func (l *Link) dispatch(typ uint8, payload []byte) {
	l.mu.Lock()
	fn := l.handlers[typ]
	l.mu.Unlock()
	if fn != nil {
		fn(payload)
	}
}

// TURNClient is a TURN client in the attacker's namespace holding one
// allocation on an honest peer's relay, to try what the relay lets it reach.
type TURNClient struct {
	conn   net.PacketConn
	client *turn.Client
	// Relayed is the allocation's relayed socket: WriteTo sends through the
	// relay (after Permit), ReadFrom receives what permitted peers send.
	Relayed net.PacketConn
}

// TURN allocates on the relay at server (host:port) with the given long-term
// credentials. The client's UDP socket is made inside the attacker's
// namespace; pion's own goroutines use it from there.
func (a *Attacker) TURN(server, username, password, realm string) (*TURNClient, error) {
	var conn net.PacketConn
	if err := a.do(func() error {
		var err error
		conn, err = net.ListenPacket("udp4", "0.0.0.0:0")
		return err
	}); err != nil {
		return nil, fmt.Errorf("hostile: TURN client socket: %w", err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: server, Username: username, Password: password, Realm: realm,
		Conn: conn, RTO: 500 * time.Millisecond, LoggerFactory: quietPion{},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("hostile: TURN client: %w", err)
	}
	if err := c.Listen(); err != nil {
		c.Close()
		conn.Close()
		return nil, fmt.Errorf("hostile: TURN client listen: %w", err)
	}
	relayed, err := c.Allocate()
	if err != nil {
		c.Close()
		conn.Close()
		return nil, fmt.Errorf("hostile: TURN allocate at %s: %w", server, err)
	}
	return &TURNClient{conn: conn, client: c, Relayed: relayed}, nil
}

// Permit asks the relay for permission to exchange data with addr's IP.
func (t *TURNClient) Permit(addr *net.UDPAddr) error { return t.client.CreatePermission(addr) }

// Close releases the allocation and the client.
func (t *TURNClient) Close() {
	t.Relayed.Close()
	t.client.Close()
	t.conn.Close()
}

// quietPion drops pion's logs: the attacker's refusals are the expected case.
type quietPion struct{}

func (quietPion) NewLogger(string) logging.LeveledLogger {
	return logging.NewDefaultLeveledLoggerForScope("", logging.LogLevelDisabled, io.Discard)
}
