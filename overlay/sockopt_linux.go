package overlay

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
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

// transportCounters reads how many data segments the kernel has sent on c's TCP
// connection, how many of those it had to send again, and the bytes sent
// (TCP_INFO's tcpi_data_segs_out, tcpi_total_retrans and tcpi_bytes_sent). Over TCP a ping is never lost, only
// late, so these are the only view of the path's packet loss: a retransmission is
// a segment the path dropped (or one the kernel gave up waiting for). c may be
// wrapped (TLS); ok is false when no TCP socket is underneath or the read failed.
func transportCounters(c net.Conn) (sent, retrans, bytes uint64, ok bool) {
	tc, isTCP := underlyingConn(c).(*net.TCPConn)
	if !isTCP {
		return 0, 0, 0, false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return 0, 0, 0, false
	}
	var info *unix.TCPInfo
	cerr := raw.Control(func(fd uintptr) {
		info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	})
	if cerr != nil || err != nil || info == nil {
		return 0, 0, 0, false
	}
	sent = uint64(info.Data_segs_out)
	if sent == 0 { // kernels before 4.6 do not fill it: count every segment
		sent = uint64(info.Segs_out)
	}
	return sent, uint64(info.Total_retrans), info.Bytes_sent, true
}
