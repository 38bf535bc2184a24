package node

import (
	"context"
	"crypto/ed25519"

	"parley/identity"
	"parley/overlay"
)

// overlayNet adapts the overlay to what the services send through: chat.Net,
// files.Net and courier.Net (the secure-send path of chat, files and calls).
type overlayNet struct{ ov *overlay.Overlay }

func (o overlayNet) Linked(id identity.PeerID) bool { return o.ov.Linked(id) }
func (o overlayNet) Online(id identity.PeerID) bool { return o.ov.Online(id) }

// PublicKey is the identity key of id's record: what the courier seals to.
func (o overlayNet) PublicKey(id identity.PeerID) ed25519.PublicKey {
	if r := o.ov.RecordOf(id); r != nil {
		return r.PubKey
	}
	return nil
}

func (o overlayNet) Send(to identity.PeerID, typ uint8, p []byte) error { return o.ov.Send(to, typ, p) }
func (o overlayNet) SendTo(to identity.PeerID, typ uint8, p []byte) (bool, error) {
	return o.ov.SendTo(to, typ, p)
}
func (o overlayNet) SendBulkDirect(ctx context.Context, to identity.PeerID, typ uint8, p []byte) error {
	return o.ov.SendBulkDirect(ctx, to, typ, p)
}
func (o overlayNet) SendBulk(ctx context.Context, to identity.PeerID, typ uint8, p []byte) (bool, error) {
	return o.ov.SendBulk(ctx, to, typ, p)
}
