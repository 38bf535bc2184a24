package relay

import "sync/atomic"

// counters are monotonically increasing event counts, published by Stats under
// the names in snapshot. Refusals count requests, not clients: a client that
// retries is counted again.
type counters struct {
	allocations    atomic.Uint64 // relayed sockets opened
	refusedCap     atomic.Uint64 // allocations refused at MaxSessions
	refusedAuth    atomic.Uint64 // malformed username, wrong realm or password
	refusedExpired atomic.Uint64 // genuine credential past its expiry
	refusedRevoked atomic.Uint64 // genuine credential of a revoked call or holder
	// allocations refused because the credential holds perCredential per address
	refusedCredentialCap atomic.Uint64
	refusedHostCap       atomic.Uint64 // allocations refused at MaxSessionsPerHost
	refusedPeer          atomic.Uint64 // permission asked for a peer the policy refuses
	droppedBandwidth     atomic.Uint64 // datagrams over the bandwidth budget
	droppedUnpermitted   atomic.Uint64 // datagrams from peers no permission was asked for
	droppedLoop          atomic.Uint64 // datagrams a relay socket tried to send to a TURN listener
	droppedSelf          atomic.Uint64 // datagrams to one of our addresses that is no relayed socket
	bytesRelayed         atomic.Uint64 // payload bytes relayed (each datagram once)
	packetsRelayed       atomic.Uint64
}

func (c *counters) snapshot() map[string]uint64 {
	return map[string]uint64{
		"allocations":            c.allocations.Load(),
		"refused_cap":            c.refusedCap.Load(),
		"refused_auth":           c.refusedAuth.Load(),
		"refused_expired":        c.refusedExpired.Load(),
		"refused_revoked":        c.refusedRevoked.Load(),
		"refused_credential_cap": c.refusedCredentialCap.Load(),
		"refused_host_cap":       c.refusedHostCap.Load(),
		"refused_peer":           c.refusedPeer.Load(),
		"dropped_bandwidth":      c.droppedBandwidth.Load(),
		"dropped_unpermitted":    c.droppedUnpermitted.Load(),
		"dropped_loop":           c.droppedLoop.Load(),
		"dropped_self":           c.droppedSelf.Load(),
		"bytes_relayed":          c.bytesRelayed.Load(),
		"packets_relayed":        c.packetsRelayed.Load(),
	}
}
