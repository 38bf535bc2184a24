// Package discovery finds Parley neighbours on the local link with no configuration and
// merges what it hears into one neighbour table keyed by peer ID.
//
// Sources feed Sightings into a Table:
//
//   - link-multicast beacons (this package's own format, below), sent on every up,
//     multicast-capable, non-loopback interface to 239.255.80.76 and ff02::7061:726c
//     (UDP port 48555, TTL / hop limit 1): a burst at start, periodically after, and a
//     goodbye on clean shutdown;
//   - DNS-SD over mDNS (hashicorp/mdns): service _parley._tcp with TXT keys id=, v=,
//     port= and name=, browsed by repeated one-shot queries with backoff;
//   - addresses cached in the roster and peers added by host:port (fed by the node).
//
// # Beacon wire format, version 1
//
// All integers big-endian.
//
//	off  len  field
//	0    4    magic "PRLY"
//	4    1    version (1); other versions are dropped and counted
//	5    1    kind: 1 announce, 2 goodbye; unknown kinds dropped
//	6    32   sender's Ed25519 public key (the peer ID is derived from it)
//	38   8    sequence number, strictly increasing per sender (ms-clock based)
//	46   2    TCP port the sender's link listener accepts on
//	48   2    L, length of the extension area
//	50   L    extensions: repeated [type u8][len u8][value]; unknown types skipped
//	50+L 64   Ed25519 signature by the key at 6 over bytes [0, 50+L)
//
// Extension types: 1 display name (UTF-8, hint only; the signed peer record is the
// authority). A beacon is at most MaxBeaconSize bytes; bigger, truncated, unsigned,
// forged or replayed (sequence not above the last one seen) beacons are dropped and
// counted in Stats. The sender's IP is the packet's source address: a beacon never
// lists addresses, so it cannot point others at a third party's host.
package discovery
