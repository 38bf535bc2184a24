// Package files shares files and photos between peers: offers to a peer or into a
// room, accept or decline, chunked transfer verified chunk by chunk and as a
// whole, resumable across disconnects and restarts of either side, and fetching
// a room file from every member that holds it, rebalanced by measured rate.
//
// # Guarantees
//
//   - Nothing is written until the user accepts. A download grows in a hidden
//     partial file in the downloads folder (".parley-<offer id>.part") and is
//     moved to its final name only once every chunk is in, synced, and the
//     whole-file hash holds: the root signed in the offer is SHA-256 over the
//     chunk hashes, and each chunk's hash was computed over the bytes written
//     (or re-read from disk after a restart). Final names are the offer's name reduced to a plain file
//     name (SafeName: no directories, no "..", no leading dots, no control,
//     format or bidi characters, so "invoice\u202Efdp.exe" is not shown as
//     "invoiceexe.pdf"; the offer prompt shows that name too) and never
//     replace a file: "name (1).ext", "name (2).ext"…
//   - Every chunk is checked against the SHA-256 in the signed manifest when it
//     arrives; a chunk that fails is counted (files_chunk_bad, files_bytes_bad)
//     and never written, its source is dropped from that download at once and
//     for good (files_source_dropped_bad; later "have" answers from it are
//     ignored), and the chunk is asked of another source. A download left with
//     no source that way fails with a reason: a 1:1 offer at once
//     (ReasonSenderCorrupt), a room file when no other member has come forward
//     10 s later (ReasonNoGoodSource); the partial file is deleted.
//   - A source checks every chunk before serving it: a file that changed on
//     disk after it was offered is not served (files_chunk_changed); its offer
//     ends, the user is told, and the recipients hear it was cancelled. The
//     check is the file's device, inode, size, mtime and ctime (fstat) against
//     those taken when its chunks were hashed; a chunk is hashed again
//     (files_serve_rehashed) only while the stamps cannot yet stand for it:
//     the file changed within 2 s of being hashed, its seed was restored after
//     a restart or is a finished download (each chunk once), or the platform
//     has no ctime (Windows: every chunk). sourceid.go says why and what the
//     stamps miss (the recipient's own hash check catches that).
//   - Tests only: built with -tags parleyhostile, a node corrupts every Nth
//     chunk it serves when PARLEY_HOSTILE_CORRUPT_CHUNKS=N is set
//     (hostile_serve.go), to play the malicious holder in the multi-host tests.
//     Other builds compile hostile_serve_off.go, where the hook is a constant
//     false and the code is not in the binary.
//   - Transfer state (the signed offer with its manifest, the have-bitmap, the
//     paths) is in the store. The bitmap is saved at most once a second; on
//     restart every chunk it claims, and every chunk of the partial file that
//     is not all zeros (written after the last save), is hashed again and kept
//     if it matches, so a crash costs at most the chunks in flight. The file is
//     synced once, before it is moved into place.
//   - Data travels on the overlay's bulk lane (SendBulk), behind every chat or
//     call frame on the same link. A receiver keeps a bounded window of chunk
//     requests outstanding per source and re-asks when one times out, since
//     relays drop bulk frames rather than queue them.
//   - Over a direct link TLS protects and authenticates everything. A frame that
//     must be routed through other peers is sealed (package internal/seal:
//     signed by the sender, encrypted to the recipient); plain frames are sent
//     only with the direct-only calls, and plain frames arriving routed are
//     dropped. The offer carries its author's signature in every case, so its
//     manifest can be trusted whoever serves the data. A sealed frame is from
//     its sealed sender; file frames are live (courier.Live, in the one policy
//     of package internal/courier, which sends and opens them), so one whose
//     sealed sender is not the link peer or routed source is dropped
//     (files_drop_sender), and
//     nothing a blocked peer (Config.Refuse) sends or signs is taken
//     (files_drop_blocked).
//   - Bounds: at most 64 unanswered offers per peer (1,024 in all) holding at
//     most 16 MiB of manifests per peer (64 MiB in all), each for at most a
//     day (offerTTL; then it fails as "offer expired", files_offer_expired), 16,384 chunks
//     per file (the manifest stays under the 1 MiB frame limit), 256 queued chunk
//     requests per requesting peer, 32 sources per download. Malformed frames are
//     dropped and counted (files_drop_malformed), never fatal.
//
// # Multi-source
//
// A download asks the offer's author, and for a room file every online member
// (again every 5 s), whether they hold the file; members that completed it (or
// offered it) answer and become sources. Sources are first ordered by the
// Ranker (the node ranks by link quality for bulk transfer): the first gets a
// window of 4 outstanding requests, the others 2. Each delivered chunk widens
// its source's window by one (slow start), up to 2 + rate × 300 ms / chunk size
// once the source's rate is measured, at most 32; measured-faster sources are
// asked first. A request that times out (3 × the source's window at its rate,
// plus 2 s) goes back to the queue and halves the source's window; after 3
// timeouts in a row the source is a last resort. A source serves its requests
// in order (a repeated request moves to the back), so when a chunk arrives, that source's earlier requests still
// unanswered were lost on the way (a relay dropped them) and are asked again at
// once (files_chunk_lost) rather than after a timeout. A source that goes
// offline loses its requests to the others. When every missing chunk is
// already requested, a free source also takes a request that another source
// will take more than twice as long to answer (at most 2 copies), so the
// slowest source never holds back the end, and fast ones do not duplicate
// each other.
//
// # Wire format (overlay application frames; integers big-endian)
//
// Control frames go with SendTo (types 24–30); data with SendBulk (64, 65).
//
//	type 24 offer (signed by its author):
//	  off  len   field
//	  0    1     version (1)
//	  1    16    offer ID (random)
//	  17   32    author's Ed25519 public key (the sender must be its peer ID)
//	  49   1     audience kind: 1 peer, 2 room
//	  50   16    kind 1: recipient peer ID
//	       1+n   kind 2: room ID as bytes8 (length u8, then the bytes)
//	  ..   8     created, unix ms
//	  ..   2+n   file name, bytes16 (1–255 bytes of UTF-8)
//	  ..   1+n   media type, bytes8 (≤ 127 bytes; may be empty)
//	  ..   8     size in bytes
//	  ..   4     chunk size (a power of two, 16 KiB–512 KiB; 256 KiB unless the
//	             file needs more than 16,384 chunks)
//	  ..   32    root: SHA-256 over the chunk hashes, concatenated in order
//	  ..   32×N  SHA-256 of each chunk, N = ceil(size / chunk size)
//	  ..   64    Ed25519 signature over every byte before it
//	type 25 answer:  [offer ID 16][verdict u8: 1 accept, 2 decline, 3 cancel, 4 done]
//	                 (recipient → author; the author sends 3 to withdraw)
//	type 26 query:   [root 32]   "do you hold this file?"
//	type 27 have:    [root 32]   "I hold it all and will serve it to you"
//	type 28 request: [root 32][count u8, 1–64][count × chunk index u32]
//	type 30 sealed:  a seal envelope whose plaintext is [inner type u8][inner
//	                 body], inner type 24–28; every routed control frame
//	type 64 chunk:   [root 32][chunk index u32][data: the chunk's exact length]
//	type 65 sealed chunk: a seal envelope whose plaintext is a type 64 body
//
// A source serves a chunk of a file only to the peer it offered the file to, or
// to members of the room the file was offered into.
package files
