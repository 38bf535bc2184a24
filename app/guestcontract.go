package app

import "parley/node"

// The node's guest API (node/guests.go, node/webcert.go) is being written
// alongside this file. Until it is in, these mirror the contract in the design
// (GUESTS-DESIGN.md); once it lands they become aliases of node's types and the
// accessors read node's fields, and nothing else in this package changes.
// TODO(merge guestcore, web): replace with the node types.

// guestView is one hosted guest, pending or admitted (node.GuestView).
type guestView struct {
	ID, Name, State string
	Connected       bool
	From            string
}

// guestRequest: a guest asks to join and waits for AdmitGuest (node.GuestRequest).
type guestRequest struct{ Guest, Name, From string }

func (guestRequest) EventName() string { return "guest_request" }

// guestChanged: a guest was admitted, left or was removed (node.GuestChanged).
type guestChanged struct{ Guest guestView }

func (guestChanged) EventName() string { return "guest" }

// guestOf tells whether a peer is a guest and which peer hosts it
// (node.PeerView.Guest and .Via). Tests replace it until the fields exist.
var guestOf = func(p node.PeerView) (guest bool, via string) { return false, "" }

// webFingerprint is the SHA-256 fingerprint of the guest web server's
// certificate (node.Ready.WebFingerprint), "" when unknown.
func (u *ui) webFingerprint() string {
	if f, ok := u.core.(interface{ WebFingerprint() string }); ok {
		return f.WebFingerprint()
	}
	return ""
}
