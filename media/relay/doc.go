// Package relay is the TURN relay (RFC 5766, UDP only) that every Parley peer runs
// so that two peers of the same network who cannot reach each other directly can
// still call through a third. It wraps github.com/pion/turn/v2.
//
// # What it serves
//
// One UDP listener per local IPv4 address, all on one port (DefaultPort, 48557,
// next to the overlay's 48556). A client's relayed address is a fresh UDP socket on
// the address the client reached us on, so a relay on two segments relays each
// segment on its own address. IPv6 is not served (pion/turn v2 allocates udp4
// relays only), nor are TCP relays (RFC 6062).
//
// # Credentials
//
// Credentials are short-lived and per call. The relay's node hands them to a
// caller over the overlay, which is already authenticated and encrypted, so TURN's
// own mechanism only has to prove "this relay issued this to someone for this call
// recently". They follow the TURN REST convention, so checking one needs no table:
//
//	username = expiry ":" call-id ":" holder
//	  expiry   ASCII decimal Unix time in seconds, 1-19 digits, no sign and no
//	           leading zero: the first second at which the credential is refused.
//	  call-id  1-128 bytes of [A-Za-z0-9._-] (a hex call ID).
//	  holder   1-128 bytes of [A-Za-z0-9._-]: the call leg it was issued for, the
//	           node writes "asker.peer" (two base32 peer IDs).
//	           Neither field may contain ':', so the split is unambiguous, and the
//	           parser accepts only this canonical spelling.
//	password = base64 (RFC 4648 section 4, with padding: 44 bytes) of
//	           HMAC-SHA256(secret, username), secret = 32 random bytes drawn when
//	           the process starts and never stored or sent.
//	realm    = Config.Realm ("parley").
//
// Clients use them as TURN long-term credentials: MESSAGE-INTEGRITY is keyed with
// MD5(username ":" realm ":" password), RFC 5389 section 15.4. Because the password
// is a MAC of the username, changing the expiry, call or holder invalidates it, and
// a restart (new secret) invalidates everything issued before.
//
// A request is refused when the username is malformed, the realm is not ours, the
// MESSAGE-INTEGRITY does not verify, the call was revoked (Revoke; call IDs are
// single-use) or the leg was (RevokeHolder), or the expiry has passed. Expiry bounds when an allocation may
// start: requests on an allocation the same credential already holds (refresh,
// permission, channel bind) are still admitted, because calls outlast the TTL;
// Revoke, RevokeHolder, the client's release or the allocation lifetime end it.
// The holder is not checked against the client's address (a relay cannot tell
// which peer is behind an address); it names the leg for logs, for RevokeHolder
// and for the per-credential cap. Passwords are never logged.
//
// # Caps, and why
//
// A relay is someone's laptop lending its uplink, so it must stay a small, bounded
// favour:
//
//   - Per credential, 2 live allocations per relay address (perCredential): a
//     credential is issued for one call leg, whose two parties allocate once on
//     each address; beyond it allocations are refused and counted
//     (refused_credential_cap), so one credential cannot take every session.
//     RevokeHolder ends one leg's allocations when a participant says the leg
//     ended; Revoke ends a whole call. Tests: TestCredentialAllocationCap,
//     TestRevokeHolder.
//   - MaxSessionsPerHost (default half of MaxSessions: 4) live allocations
//     whose clients share one IP address, so one host, however many keys it
//     holds, leaves the other half to everyone else (refused_host_cap). Test:
//     TestSessionsPerHostCap.
//   - MaxSessions (8) live allocations across all addresses; beyond it an
//     allocation is answered 508 Insufficient Capacity. The count is kept by the
//     relayed sockets themselves (opened by this package's RelayAddressGenerator,
//     released when pion closes them), so it cannot drift from what pion holds.
//     An urgent call's credentials (IssueUrgent) may take up to 2 allocations
//     beyond it (urgent.go). Test: TestUrgentBeyondSessionCap.
//   - MaxBitsPerSecond (2 Mbit/s) of relayed payload, both directions together,
//     through one token bucket with a quarter second of burst. Datagrams over the
//     budget are dropped and counted, never queued: late voice is useless and a
//     queue would be memory for whoever sends fastest. A datagram relayed between
//     two allocations on this relay is charged once.
//   - Peers: an allocation may only exchange data with addresses inside an
//     on-link subnet of the listener it was made on (the prefixes configured
//     on the interface that holds the listener's address, read when it opens)
//     and with this relay's relayed sockets on its other addresses (a call
//     whose two ends reached us on different segments); never loopback, never
//     a subnet's network or broadcast address, never another subnet of the
//     host. A LAN relay is neither a proxy to the Internet nor a door into the
//     host's own services (127.0.0.53) or into other networks the host is on
//     (a VPN). Refused permissions count as refused_peer. A datagram to one of
//     the relay's own addresses that is not a relayed socket (a service of the
//     host) is dropped (dropped_self). Multicast, broadcast and unspecified
//     addresses are refused too (no fan-out), and a relayed socket never sends
//     to one of this relay's TURN listeners (no nested relays). Datagrams from
//     addresses an allocation never asked permission for are dropped before
//     they can spend the budget. Tests: TestPeerPolicyRefuses,
//     TestOnLinkPolicy, TestRelayDoesNotReachItsHost.
//
// Load reports live sessions and a 5-second exponential average of the relayed
// rate for the node to publish in its peer record; Stats reports counters.
package relay
