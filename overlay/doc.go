// Package overlay keeps Parley's peer-to-peer overlay: one authenticated, encrypted
// link per neighbour pair, signed peer records flooded over the links, and the
// link-state graph that says who is reachable.
//
// # Links
//
// A link is a TLS 1.3 connection with mutual authentication (ALPN "parley/1"). Each
// side presents a self-signed certificate whose key is its Ed25519 identity key; a
// dialer refuses the handshake unless the server's key hashes to the peer ID it meant
// to reach, and an acceptor learns the dialer's ID from its key. When both ends dial at
// once, the connection dialed by the lower peer ID is kept on both sides.
//
// # Frames
//
// Inside TLS, everything is a frame (integers big-endian):
//
//	off  len  field
//	0    1    frame version (1); frames of other versions are skipped and counted
//	1    1    type
//	2    4    payload length N (at most MaxFrame; larger frames are skipped and counted)
//	6    N    payload
//
// Unknown types are skipped and counted; a payload that fails to decode drops that
// frame only, never the link. Types:
//
//	1 ping    [nonce u64][sender clock, unix µs u64]
//	2 pong    the ping payload echoed
//	3 record  a peer record (below)
//	5 superseded  (empty) this connection lost the duplicate-link tie-break; the
//	          receiver keeps the peer up while the winning connection completes
//	16–255    application messages, handed to the handler registered for the type
//
// # Peer records
//
// A record is signed by its author and floods over all links; a node keeps the highest
// sequence number per author and drops the rest (stale or replayed) and anything with
// a bad signature, counting both.
//
//	off  len  field
//	0    1    record version (1)
//	1    32   author's Ed25519 public key
//	33   8    sequence number (strictly increasing per author, clock based)
//	41   8    issued at, unix ms
//	49   1    flags: bit 0 = offline (the author's goodbye)
//	50   1    presence: 0 available, 1 away, 2 busy
//	51   ..   display name       bytes8
//	..   ..   status text        bytes16 (at most 512 bytes)
//	..   1    address count A (≤ 16), then A × bytes8 "ip:port"
//	..   1    capability count C (≤ 32), then C × bytes8 name
//	..   2    neighbour count K (≤ 512), then K × [peer ID 16][RTT µs u32]
//	..   2    extension length E, then E bytes of [type u8][len u16][value]; unknown skipped
//	..   64   Ed25519 signature over every byte before it
//
// A record is at most MaxRecord bytes.
package overlay
