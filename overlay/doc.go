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
// frame only, never the link. A handler owns the payload it is given. Payloads of
// 64 KiB and more are read into buffers from internal/bufpool, and a handler done
// with one may give it back with bufpool.Put (the file service does for chunks),
// so a bulk transfer does not allocate a buffer per frame; the bulk lane's own
// copies of outgoing frames are recycled the same way once written. Types:
//
//	1 ping    [nonce u64][sender clock, unix µs u64]
//	2 pong    the ping payload echoed
//	3 record  a peer record (below)
//	4 routed  an application frame for a peer without a direct link (below)
//	5 superseded  (empty) this connection lost the duplicate-link tie-break; the
//	          receiver keeps the peer up while the winning connection completes
//	6 probe   [probe ID u32][index u16][count u16][filler]: a capacity probe burst
//	7 probe report [probe ID u32][bytes u32][µs between first and last frame u32]
//	8 team proof   [tag 16]: the first frame of a closed team's link; the dialer's
//	          goes first, the listener's only after it checks out (admit.go)
//	9 record have  n × [author peer ID 16][sequence u64], 1 ≤ n ≤ 256: records the
//	          sender holds (lazy push, lazy.go)
//	10 record want the same list: records the sender asks for; each one held at that
//	          sequence or newer comes back as a record frame
//	11 record prune the same list: authors whose later records the sender wants
//	          from this link by reference only, having had this one in full twice
//	          (prune.go); a want for an author undoes it
//	16–255    application messages, handed to the handler registered for the type
//
// Every frame type and record extension type is numbered in one registry,
// internal/wire/registry.go, which links each to the file documenting its bytes.
//
// A pong echoes our own ping, so one that is not exactly 16 bytes is malformed
// (pong_drop_malformed); a ping that is not exactly 16 bytes is dropped unanswered
// (ping_drop_size), since its echo would be queued at the pinger's reading pace. A probe frame must have index < count; its filler may be of
// any length (probe_drop_malformed). A report is at least 12 bytes, later bytes
// ignored, and cannot claim more bytes than a burst carries, 8 × (8 KiB + 6)
// (probe_report_drop_malformed). A first frame that is not a team proof with a
// 16-byte payload is refused from its header alone; nothing past the proof frame is
// read before the link starts, since what follows belongs to the link.
//
// # Routing
//
// Peers with no direct link (two LAN segments joined only by a dual-homed peer) reach
// each other through routed frames, forwarded hop by hop:
//
//	off  len  field
//	0    1    ttl: hops left (1–255; the sender starts at 16, each relay subtracts 1)
//	1    16   destination peer ID
//	17   16   source peer ID (NOT authenticated: any hop could have written it)
//	33   1    inner type (an application type, 16–255)
//	34   ..   inner payload (at most MaxFrame-34 bytes)
//
// A frame with ttl 0, an inner type below 16, a zero ID, or source = destination is
// malformed and dropped (route_drop_malformed). The destination hands the inner
// payload to the handler registered with HandleRouted for the inner type, with the
// source and the neighbour it arrived from; applications must authenticate the
// payload end to end themselves. The source is a hint for where to answer, not an
// identity: a destination that blocks the named source drops the frame
// (route_drop_blocked), a pre-filter only, since a blocked sender can name anyone;
// blocking is decided on the sealed sender inside the payload. Any other node
// forwards it, with ttl-1, to the next hop of its shortest path to the destination,
// unless ttl is 1 (route_drop_ttl), no path is known (route_drop_unreachable), the
// next hop is the neighbour the frame came from or the source is this node
// (route_drop_loop), or the next link's queue is full (route_drop_queue); forwarded
// frames count route_forwarded.
//
// Paths are shortest by Dijkstra over this node's links and the edges u–v that both
// u's and v's live records list, weighted by the larger of the two RTTs they publish
// (1 ms for a missing sample), plus 0.5 ms per hop so that equal-RTT paths prefer
// fewer hops. A node weighs its own links from the records too, as every other node
// does, so nodes holding the same records agree on every path and a frame never
// comes back; only a link the records do not list yet is weighed by the smoothed RTT
// measured on it. (Weighing its own links by the RTT just measured made two
// neighbours of a node that answered slowly after a restart each see the other as
// the way to it, and its frames looped until the next record.) The route tree is
// cached and recomputed after the graph changes (and at least every few seconds), so
// forwarding costs a map lookup per frame. One pass (graph.go) finds who is online,
// the route tree and the record eviction order from a snapshot of the record table,
// outside the overlay's lock; it reads at most 262,144 neighbour listings (first an equal
// share of that per reached record, 64 each at the record cap, then what is left
// for the lists that were cut), which an honest overlay of 4,096 nodes of the
// usual degree never exceeds, and record changes cause a pass at most every
// max(50 ms, twice the last pass).
//
// # Peer records
//
// A record is signed by its author and floods over all links; a node keeps the highest
// sequence number per author and drops the rest (stale or replayed) and anything with
// a bad signature, counting both. Flooding is split into eager and lazy push (see
// lazy.go): the author sends its record in full to every link; a node that accepts a
// new record sends it in full to at most 3 random links whose peers the record does
// not list as the author's neighbours, and a have reference to every other link (in
// batches every 100 ms); a node that holds no full copy 500 ms after a have sends a
// want to an announcer, asking each only for the sequence number it announced,
// lowest first (up to 4 announcers per record, each asked at most 3 times, 3 s
// apart), so an announcer of a sequence number nobody has cannot hold up the pull. Wants are
// answered at up to 256 records a second per link, bursts of 1,024
// (record_want_limited). Malformed have or want lists are dropped and counted
// (record_have_malformed, record_want_malformed). Peers whose record lacks the
// capability "records-pull/1" get every record in full, as before, and a new link
// gets every record in full at once.
//
// The table holds at most 4,096 records (Config.MaxRecords). When it is full a new
// record evicts, in this order: a goodbye, a record whose author is unreachable
// (oldest first), then the reachable record with the most hops, reached through
// the peer that vouches for the most others, heard least recently — and only one
// that ranks below the new record (evict.go). The records of linked peers and of
// up to 1,024 peers seeded from the roster are reserved: never evicted, and they
// always get in. Records of unreachable authors and goodbyes expire 10 minutes
// after they were last heard. Counters: record_evicted_offline,
// record_evicted_unreachable, record_evicted_far, record_expired_offline,
// record_expired_unreachable, record_drop_full (nothing ranks below it).
//
// Sequence numbers come from a source that is clock based and stored
// (internal/seqno), so they rise across a restart with the clock set back. A new
// link also carries the peer's own record as we hold it, and a stale record from
// its author over a link is answered with ours: a node whose store was lost jumps
// past its own newer record (record_self_newer) instead of staying offline.
//
//	off  len  field
//	0    1    record version (1)
//	1    32   author's Ed25519 public key
//	33   8    sequence number (strictly increasing per author: clock based, stored)
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
//
// # What a peer can make a node hold
//
// Keys cost nothing, so every bound below holds per link and per source address,
// and a peer that exceeds one only loses its own frames or connections:
//
//   - Send queues are bounded in bytes as well as frames: the ordinary lane at 4 MiB
//     and 1,024 frames, the bulk lane at 3 MiB and 8 frames (link.go). A frame
//     that does not fit is refused (ErrQueueFull, link_send_bytes_full); the
//     caller drops it and counts (pong_dropped, record_forward_dropped, ...).
//     Urgent and alert frames (types 33 and 34, direct or routed) go on a
//     third lane ahead of both, at most 64 frames and 256 KiB, and 32 frames a
//     second per link; beyond that they travel on the ordinary lane
//     (link_urgent_demoted; urgentlane.go). Push-to-talk frames (type 35)
//     share that lane while it is less than half full, at most 200 a second
//     per link; beyond that they are dropped, not demoted (link_ptt_dropped;
//     pttlane.go).
//   - Only 16-byte pings are echoed (above). With both, a link's queues hold at
//     most 7 MiB whatever its peer sends or how slowly it reads.
//   - Inbound connections are capped before TLS (inbound.go): 8 per source
//     address (links and handshakes together), 512 in all, 4 handshakes under
//     way per source and 128 in all, each handshake at most 5 s
//     (link_refused_per_source, link_refused_total, handshake_refused_per_source,
//     handshake_refused_total). So one address holds at most 8 links' queues.
//   - A frame being read is at most MaxFrame (1 MiB, from a pool), one per link.
//   - Lazy push keeps at most MaxRecords wants, each with at most 4 announcers.
//
// Where it is told the interfaces in use (Config.ListenOn), the listener binds
// their addresses and 127.0.0.1, not the wildcard, and follows them as they
// change (listen.go); Config.AcceptFrom refuses other sources before TLS
// (link_refused_source): the node accepts loopback and the on-link subnets of
// its interfaces in use, so a global IPv6 address is not a door from the
// Internet. TestHostileLinkResources (itest) measures the result: one hostile
// address with 101 keys, 1 MiB pings read slowly and 64 half-open connections
// for 60 s.
package overlay
