package headless

import "parley/node"

// FileSharer is the part of the node that shares files. It is separate from Node
// so skins and fakes without file sharing still satisfy Node.
type FileSharer interface {
	SendFile(to, room string, paths ...string) ([]string, error)
	AcceptFile(id string) error
	DeclineFile(id string) error
	CancelFile(id string) error
	Transfers() []node.Transfer
}

// AutoAccepter is the optional part of a FileSharer that takes offers from
// verified peers without asking.
type AutoAccepter interface {
	AutoAcceptVerified() bool
	SetAutoAcceptVerified(on bool) error
}

var (
	fileSharing = capability{
		has:     func(n Node) bool { _, ok := n.(FileSharer); return ok },
		missing: "this node does not share files",
	}
	autoAccept = capability{
		has:     func(n Node) bool { _, ok := n.(AutoAccepter); return ok },
		missing: "this node cannot accept files by itself",
	}
)
