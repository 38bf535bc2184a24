package relay

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// DefaultPort is the relay's UDP port when Config.Port is 0: next to the overlay's
// 48556 so one firewall rule pair covers a Parley peer.
const DefaultPort = 48557

// Defaults for the zero values of Config.
const (
	DefaultRealm            = "parley"
	DefaultMaxSessions      = 8
	DefaultMaxBitsPerSecond = 2e6
	DefaultCredentialTTL    = 10 * time.Minute
)

// Config configures a Server. The zero value of every field but Addrs means its
// default.
type Config struct {
	// Addrs are the local IPv4 unicast addresses to serve on: one UDP listener per
	// address, and a client's relayed address is on the address it reached us on.
	// IPv6 addresses are skipped (pion/turn v2 relays over udp4 only).
	Addrs []netip.Addr
	// Port is the listening port on every address: 0 means DefaultPort, a negative
	// value one free port chosen by the system (tests).
	Port int
	// Realm is the TURN realm clients must present (DefaultRealm).
	Realm string
	// MaxSessions caps the live allocations across all addresses.
	MaxSessions int
	// MaxSessionsPerHost caps the live allocations whose clients share one IP
	// address: 0 means half of MaxSessions (at least 1), so one host, however
	// many keys it holds, leaves the other half to everyone else; negative
	// means no cap (unit tests, whose clients are all on 127.0.0.1).
	MaxSessionsPerHost int
	// MaxBitsPerSecond caps the aggregate relayed payload, both directions together.
	MaxBitsPerSecond float64
	// CredentialTTL is how long an issued credential admits new allocations.
	CredentialTTL time.Duration
	// AllowPeer replaces the peer policy (policy.go: the on-link subnets of the
	// listeners, never loopback); for tests that relay on loopback only. nil, the
	// only value a node uses, means the real policy. Multicast, broadcast and
	// unspecified addresses are refused whatever it says.
	AllowPeer func(netip.Addr) bool
	// Now is the clock for credential expiry, the bandwidth bucket and the load
	// average (time.Now when nil).
	Now func() time.Time
	// Log receives the relay's own logs and pion's (the latter at debug level).
	Log *slog.Logger
}

// withDefaults fills in zero values and rejects values that cannot work.
func (c Config) withDefaults() (Config, error) {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Port > 65535 {
		return c, fmt.Errorf("relay: port %d out of range", c.Port)
	}
	if c.Port < 0 {
		c.Port = 0
	}
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxSessionsPerHost == 0 {
		c.MaxSessionsPerHost = max(1, c.MaxSessions/2)
	}
	if c.MaxBitsPerSecond <= 0 {
		c.MaxBitsPerSecond = DefaultMaxBitsPerSecond
	}
	if c.CredentialTTL <= 0 {
		c.CredentialTTL = DefaultCredentialTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
