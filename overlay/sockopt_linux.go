package overlay

import (
	"net"
	"syscall"
)

// tcpNotSentLowat is Linux's TCP_NOTSENT_LOWAT socket option (linux/tcp.h).
const tcpNotSentLowat = 25

// unsentLimit caps the bytes a link's socket holds that TCP has not yet sent.
// Without it the kernel buffers megabytes of bulk data, and a chat frame
// queued behind them waits seconds on a slow link; with it, the writer blocks
// in user space, where ordinary frames overtake bulk ones.
const unsentLimit = 128 << 10

// limitUnsent applies unsentLimit to a TCP connection; failures only cost latency.
func limitUnsent(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpNotSentLowat, unsentLimit)
	})
}
