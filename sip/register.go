package sip

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"parley/node"
)

// onRegister is the registrar (RFC 3261 §10.3): one contact per account (a
// phone), bound for the expiry it asked, clamped to [Config.MinExpires, maxExpires].
func (s *Server) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	src, _ := sourceAddr(req)
	user, ok := s.authenticate(req, tx, src)
	if !ok {
		return
	}
	if to := req.To(); to == nil || to.Address.User != user {
		// The authenticated account may bind its own address only.
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden (not your address)", nil))
		return
	}
	contact := req.Contact()
	if contact == nil { // a query of the bindings
		s.respondBindings(req, tx, user)
		return
	}
	exp := requestedExpires(req, contact)
	if contact.Address.Wildcard || exp == 0 {
		s.unregister(user)
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		return
	}
	host, err := netip.ParseAddr(contact.Address.Host)
	if err != nil || !s.n.OnLAN(host) || contact.Address.Scheme != "sip" {
		// A name or an address off the LAN: the node would send a caller's
		// voice and messages there.
		s.n.CountSIP("contact_refused")
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden (contact not on this LAN)", nil))
		return
	}
	if exp < s.minExpires {
		res := sip.NewResponseFromRequest(req, sip.StatusIntervalToBrief, "Interval Too Brief", nil)
		res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(int(s.minExpires/time.Second))))
		tx.Respond(res)
		return
	}
	exp = min(exp, maxExpires)
	name := ""
	if from := req.From(); from != nil {
		name = from.DisplayName
	}
	uri := contact.Address.Clone()
	dev, err := s.n.HostDevice(s.ctx, node.DeviceJoin{User: user, Name: name, Contact: uri.String(), Expires: s.now().Add(exp)})
	if err != nil {
		s.log.Warn("sip: device not hosted", "user", user, "err", err)
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil))
		return
	}
	s.trackDevice(user, dev, *uri, req.Transport(), false)
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	c := contact.Clone()
	c.Params.Add("expires", strconv.Itoa(int(exp/time.Second)))
	res.AppendHeader(c)
	tx.Respond(res)
}

// requestedExpires is the contact's expires parameter, else the Expires
// header, else defaultExpires; unparsable values count as the default.
func requestedExpires(req *sip.Request, c *sip.ContactHeader) time.Duration {
	if v, ok := c.Params.Get("expires"); ok {
		if n, err := strconv.ParseUint(v, 10, 32); err == nil {
			return time.Duration(n) * time.Second
		}
	}
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.ParseUint(h.Value(), 10, 32); err == nil {
			return time.Duration(n) * time.Second
		}
	}
	return defaultExpires
}

func (s *Server) respondBindings(req *sip.Request, tx sip.ServerTransaction, user string) {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	s.mu.Lock()
	d := s.devices[user]
	s.mu.Unlock()
	if d != nil {
		d.mu.Lock()
		res.AppendHeader(&sip.ContactHeader{Address: d.contact})
		d.mu.Unlock()
	}
	tx.Respond(res)
}

func (s *Server) unregister(user string) {
	s.mu.Lock()
	d := s.devices[user]
	s.mu.Unlock()
	if d != nil {
		d.dev.Detach()
	}
}
