package headless

import (
	"errors"
	"testing"

	"parley/node"
)

// sipNode is fakeNode with SIP accounts and the registrar's address setting.
type sipNode struct {
	*fakeNode
	listen string
}

func (f *sipNode) SetSIPAccount(user, password string) error   { return nil }
func (f *sipNode) SIPAccounts() ([]node.SIPAccountView, error) { return nil, nil }
func (f *sipNode) SIPRealm() string                            { return "parley-test" }
func (f *sipNode) CallSIP(uri string) (string, error)          { return "", node.ErrSIPOff }
func (f *sipNode) SetSIPUnregistered(on bool) error            { return nil }
func (f *sipNode) SIPUnregistered() bool                       { return false }
func (f *sipNode) SIPListen() string                           { return f.listen }
func (f *sipNode) SetSIPListen(addr string) error {
	if addr == "bad" {
		return errors.New("sip address: bad")
	}
	f.listen = addr
	return nil
}

// sip_listen reports "off" by default, sets an address, refuses what the node
// refuses (keeping the setting), and "off" clears it.
func TestSessionSIPListen(t *testing.T) {
	f := &sipNode{fakeNode: newFakeNode()}
	s := startSession(t, f)
	s.expect("ready", nil)
	s.send(`{"cmd":"sip_listen"}` + "\n")
	s.expect("ok", map[string]any{"cmd": "sip_listen", "addr": "off"})
	s.send(`{"cmd":"sip_listen","addr":":5070"}` + "\n")
	s.expect("ok", map[string]any{"cmd": "sip_listen", "addr": ":5070"})
	s.send(`{"cmd":"sip_listen","addr":"bad"}` + "\n")
	s.expect("error", nil)
	s.send(`{"cmd":"sip_listen"}` + "\n")
	s.expect("ok", map[string]any{"addr": ":5070"})
	s.send(`{"cmd":"sip_listen","addr":"off"}` + "\n")
	s.expect("ok", map[string]any{"addr": "off"})
	if f.listen != "" {
		t.Fatalf("off left %q", f.listen)
	}
}
