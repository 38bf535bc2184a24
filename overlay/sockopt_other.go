//go:build !linux

package overlay

import "net"

// limitUnsent is a no-op where TCP_NOTSENT_LOWAT is not wired up.
func limitUnsent(net.Conn) {}

// transportCounters is unavailable where TCP_INFO is not wired up: the node falls
// back to ping loss.
func transportCounters(net.Conn) (sent, retrans, bytes uint64, ok bool) { return 0, 0, 0, false }
