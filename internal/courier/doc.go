// Package courier is Parley's one secure-send path, shared by chat, files and
// calls: a frame goes over the direct TLS link when there is one, and is
// otherwise sealed to the recipient (package internal/seal) and routed through
// the overlay; an envelope that arrives is checked against one policy before a
// service sees a byte of it.
//
// # Sending
//
// [Courier.Send] sends a frame (type, body) in the clear on a direct link (TLS
// authenticates and encrypts it); when the recipient is not linked, or the
// direct send fails, it seals [type][body] to the public key of the
// recipient's record and routes the envelope as the service's sealed frame
// type (Config.Sealed). [Courier.SendSealed] always seals, with no inner type
// byte (calls: the overlay picks the direct link itself). [Courier.Seal] seals
// for a service with a transport of its own (file chunks on the bulk lane).
//
// # The policy (docs/security.md, "The sealed sender decides")
//
// The sealed sender is who a frame is from. The routed source and the link
// that carried it are routing facts: any hop can write any routed source.
// [Courier.Open] applies, in order of cost:
//
//  1. A blocked routed source or link peer is dropped before anything is
//     parsed (Counters.Blocked).
//  2. The envelope's structure and signature (Counters.Unsealable). With an
//     Admit hook the signature is verified first (seal.Inspect) and the
//     envelope decrypted only after the hook; without one, seal.Open does both
//     at once (one signature check per envelope on the bulk path).
//  3. A blocked sealed sender is dropped (Counters.Blocked): nothing a blocked
//     peer signs is taken, whoever carries it and whatever source it names.
//  4. A sealed sender that differs from the routed source (or, on a direct
//     link, from the link's peer) is a mismatch (Counters.Mismatch). Its
//     outcome is the service's declared [Policy]: [Live] kinds (calls, file
//     control and chunks) drop it, because a live exchange only ever comes
//     from its author; [Relayed] kinds (chat, custody hand-over) accept it as
//     the sealed sender's, because a relay or a custodian legitimately
//     carries someone else's sealed message.
//  5. The service's Admit hook (its rate limits and standing checks) on the
//     verified sealed sender, before the costly decryption.
//  6. Decryption; then, for [Courier.OpenFrame], the inner type must be one
//     the service declared (Config.Inner), else Counters.Malformed.
//
// Each drop is counted once, under the name the service passes in
// ([Counters]); an empty name is not counted. Plain frames on a direct link
// are not envelopes: a service asks [Courier.Refused] about their link peer,
// which counts under the same Blocked name.
//
// # Rate limits: which layer limits what
//
// The courier holds no budget of its own: a limit lives where its key is
// known, and every budget is spent by the verified sealed sender, never by a
// claimed routed source.
//
//   - The overlay bounds links per source address, bytes queued per link, one
//     frame being read per link, routed frames' hops and queues
//     (overlay/doc.go, overlay/inbound.go, overlay/route.go), and drops routed
//     frames naming a blocked source as a pre-filter (route_drop_blocked).
//   - Chat plugs its envelope budgets in through Admit (chat/ratelimit.go):
//     per link 1,000 envelopes/s, per (link, sealed sender) 200/s, node-wide
//     500/s of frames not from their author's own link; custody requests 20/s
//     per link (chat/custody.go: plain frames on a direct link, not
//     envelopes). They stay in chat because they are shaped by its
//     store-and-forward queues (chat/inbound.go).
//   - Files and calls have no envelope budget: their envelopes are opened as
//     fast as the link delivers them, bounded by the overlay's per-link limits
//     and TCP backpressure. They bound what a peer can make them hold instead:
//     pending offers, chunk requests and sources (files/doc.go); message size,
//     participants, pending candidates and relay grants (media/call).
//
// # Wire format
//
// An envelope is a seal envelope (internal/seal, version 2) whose plaintext
// is, for Send and OpenFrame:
//
//	offset  size  field
//	0       1     inner frame type (one of Config.Inner)
//	1       n     the frame's body, as it would travel on a direct link
//
// and, for SendSealed, Seal and Open, the body alone (no type byte).
package courier
