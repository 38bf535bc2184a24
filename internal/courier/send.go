package courier

import (
	"fmt"

	"parley/identity"
	"parley/internal/seal"
)

// Send sends frame (typ, body) to `to`: in the clear on the direct link when
// there is one (TLS protects it), else sealed as [typ][body] to the
// recipient's record key and routed as the service's sealed type. A direct
// send that fails falls back to routing.
func (c *Courier) Send(to identity.PeerID, typ uint8, body []byte) error {
	if c.cfg.Net.Linked(to) {
		if err := c.cfg.Net.Send(to, typ, body); err == nil {
			return nil
		}
	}
	plain := make([]byte, 0, 1+len(body))
	plain = append(append(plain, typ), body...)
	return c.SendSealed(to, plain)
}

// SendSealed seals plain (no inner type byte) to `to` and sends it as the
// service's sealed type, over the direct link if there is one, else routed.
func (c *Courier) SendSealed(to identity.PeerID, plain []byte) error {
	env, err := c.Seal(to, plain)
	if err != nil {
		return err
	}
	if _, err := c.cfg.Net.SendTo(to, c.cfg.Sealed, env); err != nil {
		c.count(c.cfg.Names.RouteFailed)
		return err
	}
	c.count(c.cfg.Names.SealedSent)
	return nil
}

// Seal seals plain to the key of `to`'s record, for a service that sends the
// envelope on a transport of its own (it counts SealedSent and RouteFailed
// itself). A recipient without a record is ErrNoKey (Counters.Unreachable).
func (c *Courier) Seal(to identity.PeerID, plain []byte) ([]byte, error) {
	pub := c.cfg.Net.PublicKey(to)
	if pub == nil {
		c.count(c.cfg.Names.Unreachable)
		return nil, fmt.Errorf("seal to %s: %w", to.Short(), ErrNoKey)
	}
	env, err := seal.Seal(c.cfg.Identity, pub, plain)
	if err != nil {
		c.cfg.Log.Warn("seal", "to", to.Short(), "err", err)
		return nil, fmt.Errorf("seal to %s: %w", to.Short(), err)
	}
	return env, nil
}
