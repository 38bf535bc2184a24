package headless

import "parley/node"

// Caller is the part of the node that runs voice calls. It is separate from
// Node so skins and fakes without calls still satisfy Node.
type Caller interface {
	Call(peers ...string) (string, error)
	Answer(id string) error
	Decline(id string) error
	Hangup(id string) error
	Mute(id string, on bool) error
	SendDTMF(id, digits string) error
	Calls() []node.CallInfo
}

// Truster is the part of the node that keeps the user's trust decisions.
type Truster interface {
	SetVerified(peer string, on bool) (node.PeerView, error)
	Block(peer string, on bool) (node.PeerView, error)
}

var (
	voiceCalls = capability{
		has:     func(n Node) bool { _, ok := n.(Caller); return ok },
		missing: "this node has no voice calls",
	}
	trustDecisions = capability{
		has:     func(n Node) bool { _, ok := n.(Truster); return ok },
		missing: "not supported by this node",
	}
)
