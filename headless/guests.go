package headless

import "parley/node"

// GuestHoster is the part of the node that hosts browser guests (node/guests.go);
// separate from Node so skins and fakes without guests still satisfy Node.
type GuestHoster interface {
	AdmitGuest(id string, on bool) error
	RemoveGuest(id string) error
	Guests() []node.GuestView
}

var guestHosting = capability{
	has:     func(n Node) bool { _, ok := n.(GuestHoster); return ok },
	missing: "this node hosts no guests",
}
