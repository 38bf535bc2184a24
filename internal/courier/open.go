package courier

import (
	"parley/identity"
	"parley/internal/seal"
)

// Frame is an opened envelope.
type Frame struct {
	// Sender is the sealed sender: who the frame is from.
	Sender identity.PeerID
	// Type is the inner frame type (OpenFrame; 0 from Open).
	Type uint8
	// Body is the frame's body (OpenFrame) or the whole plaintext (Open).
	Body []byte
}

// Refused says whether a plain frame from peer (on its own direct link) is
// refused because the user blocked it; counted as Counters.Blocked.
func (c *Courier) Refused(peer identity.PeerID) bool {
	if c.blocked(peer) {
		c.count(c.cfg.Names.Blocked)
		return true
	}
	return false
}

func (c *Courier) blocked(id identity.PeerID) bool {
	return c.cfg.Blocked != nil && c.cfg.Blocked(id)
}

// Open checks and opens an envelope that arrived on via's link from src (the
// routed source, or via itself when it came directly), applying the policy
// in the package documentation. A zero src is no claim at all (an envelope
// a custodian hands over inside a frame of its own): it cannot mismatch.
// The plaintext is returned whole. Every error was counted; it is one of
// the Err values of this package.
func (c *Courier) Open(via, src identity.PeerID, env []byte) (Frame, error) {
	claimed := !src.IsZero()
	if claimed && c.Refused(src) {
		return Frame{}, ErrBlocked
	}
	var sender identity.PeerID
	var plain []byte
	if c.cfg.Admit == nil {
		opened, err := c.opener.Open(env)
		if err != nil {
			c.count(c.cfg.Names.Unsealable)
			return Frame{}, ErrUnsealable
		}
		sender, plain = opened.SenderID, opened.Plaintext
	} else {
		// The signature first, so budgets are spent by a sender who signed;
		// the decryption only after them.
		var err error
		if sender, _, err = seal.Inspect(env); err != nil {
			c.count(c.cfg.Names.Unsealable)
			return Frame{}, ErrUnsealable
		}
	}
	if c.Refused(sender) {
		return Frame{}, ErrBlocked
	}
	if claimed && sender != src && c.cfg.Policy == Live {
		c.count(c.cfg.Names.Mismatch)
		return Frame{}, ErrMismatch
	}
	if c.cfg.Admit != nil {
		if !c.cfg.Admit(via, sender) {
			return Frame{}, ErrRefused
		}
		opened, err := c.opener.Open(env)
		if err != nil || opened.SenderID != sender {
			c.count(c.cfg.Names.Unsealable)
			c.cfg.Log.Debug("sealed frame dropped", "claimed", sender.Short(), "err", err)
			return Frame{}, ErrUnsealable
		}
		plain = opened.Plaintext
	}
	if claimed && sender != src {
		// Relayed: counted, and the frame is the sealed sender's.
		c.count(c.cfg.Names.Mismatch)
	}
	return Frame{Sender: sender, Body: plain}, nil
}

// OpenFrame is Open followed by the split of the plaintext into an inner
// type the service declared (Config.Inner) and its body.
func (c *Courier) OpenFrame(via, src identity.PeerID, env []byte) (Frame, error) {
	f, err := c.Open(via, src, env)
	if err != nil {
		return Frame{}, err
	}
	typ, body, err := SplitInner(f.Body, c.cfg.Inner)
	if err != nil {
		c.count(c.cfg.Names.Malformed)
		return Frame{}, ErrMalformed
	}
	f.Type, f.Body = typ, body
	return f, nil
}

// Inner splits a plaintext with this courier's inner types (SplitInner).
func (c *Courier) Inner(plain []byte) (uint8, []byte, error) {
	return SplitInner(plain, c.cfg.Inner)
}
