package hostile

import (
	"crypto/ed25519"
	"time"

	"parley/chat"
	"parley/identity"
	"parley/internal/seal"
	"parley/internal/wire"
)

// SealedChat is a TypeSealed frame body: a direct message with id and text from
// `from` to the peer whose key is to, sealed (signed by from, encrypted to to).
func SealedChat(from *identity.Identity, to ed25519.PublicKey, id, text string) ([]byte, error) {
	now := time.Now()
	body := chat.EncodeBody(chat.Body{Kind: chat.KindDirect, ID: id, HLC: uint64(now.UnixMilli()) << 16, Sent: now, Text: text})
	return seal.Seal(from, to, append([]byte{chat.TypeMessage}, body...))
}

// ThrowawaySealedChats is n sealed chat frames to `to`, each signed by a fresh
// identity of its own: the frames a neighbour sends to make the recipient keep
// per-sender state for keys it has never heard of.
func ThrowawaySealedChats(n int, to ed25519.PublicKey, text string) ([][]byte, error) {
	keys, err := Throwaway(n)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, n)
	for i, k := range keys {
		if out[i], err = SealedChat(k, to, chat.NewID(time.Now()), text); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Handover is a TypeHandover frame body: what a custodian sends the recipient,
// [message ID bytes8][envelope].
func Handover(id string, envelope []byte) []byte {
	var w wire.Writer
	w.Str8(id)
	w.Raw(envelope)
	return w.B
}

// CustodyRequest is a TypeCustody frame body asking a neighbour to hold
// envelope (sealed by the link's own identity) for recipient `to`.
func CustodyRequest(to identity.PeerID, id string, envelope []byte) []byte {
	return chat.EncodeCustody(chat.CustodyFrame{To: to, Expires: time.Now().Add(time.Hour), ID: id, Envelope: envelope})
}
