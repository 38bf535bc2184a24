package overlay

import "net"

// underlyingConn unwraps a connection wrapped by TLS (or anything else that offers
// NetConn) down to the socket, for socket options and counters.
func underlyingConn(c net.Conn) net.Conn {
	for range 4 {
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return c
		}
		c = w.NetConn()
	}
	return c
}
