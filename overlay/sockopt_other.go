//go:build !linux

package overlay

import "net"

// limitUnsent is a no-op where TCP_NOTSENT_LOWAT is not wired up.
func limitUnsent(net.Conn) {}
