//go:build unix

package discovery

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort lets several Parley nodes share the beacon port on one host (tests, two
// users on one machine); multicast datagrams are delivered to every such socket.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = errors.Join(
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1),
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1))
	})
	return errors.Join(err, serr)
}
