package headless

import "parley/node"

// SIPHoster is the part of the node that keeps SIP accounts
// (node/devicesaccounts.go); separate from Node so fakes without it still
// satisfy Node.
type SIPHoster interface {
	SetSIPAccount(user, password string) error
	SIPAccounts() ([]node.SIPAccountView, error)
	SIPRealm() string
	// Direct calls (node/devicesdirect.go): a phone by URI, and whether
	// unregistered phones may call.
	CallSIP(uri string) (string, error)
	SetSIPUnregistered(on bool) error
	SIPUnregistered() bool
	// The registrar's address from the next start ("" off).
	SetSIPListen(addr string) error
	SIPListen() string
}

// orOff names an empty address "off", as sip_listen takes it.
func orOff(addr string) string {
	if addr == "" {
		return "off"
	}
	return addr
}

var sipHosting = capability{
	has:     func(n Node) bool { _, ok := n.(SIPHoster); return ok },
	missing: "this node keeps no SIP accounts",
}
