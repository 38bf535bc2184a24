package discovery

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// reusePort lets several Parley nodes share the beacon port on one host (two users
// on one machine). Windows has no SO_REUSEPORT: its SO_REUSEADDR alone lets
// several sockets bind one UDP port, and each of them receives every multicast
// datagram, which is what beacons need.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = windows.SetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_REUSEADDR, 1)
	})
	return errors.Join(err, serr)
}
