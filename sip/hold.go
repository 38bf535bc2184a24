package sip

import (
	"net/netip"

	"github.com/emiago/sipgo/sip"
)

// Re-INVITEs in a call (RFC 3261 §14): the phone puts the call on hold
// (a=sendonly or a=inactive), resumes it (a=sendrecv), or moves its RTP.
// The phone's node answers (node.SIPReinvite: the bridge follows, the
// call's other participants see call_state "held", then "active" with
// reason "resumed"); the answer is a 200 with the matching direction. A
// re-INVITE must come from the phone's address, in order (CSeq), with a
// body the bounds allow; otherwise it is refused and the call goes on.
func (s *Server) onReinvite(c *call, req *sip.Request, tx sip.ServerTransaction, src netip.Addr) {
	refuse := func(code int, reason, counter string) {
		s.n.CountSIP(counter)
		tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	}
	switch {
	case c.n == nil:
		refuse(sip.StatusRequestPending, "Request Pending", "reinvite_early") // the call is not set up yet
		return
	case !s.fromPhone(c, src):
		refuse(sip.StatusForbidden, "Forbidden (not the phone of this call)", "reinvite_refused")
		return
	case len(req.Body()) > maxBody:
		refuse(sip.StatusRequestEntityTooLarge, "Request Entity Too Large", "reinvite_refused")
		return
	}
	if err := s.readInDialog(c, req, tx); err != nil {
		refuse(sip.StatusInternalServerError, "Server Internal Error (CSeq out of order)", "reinvite_refused")
		return
	}
	answer, held, err := c.n.SIPReinvite(src, req.Body())
	if err != nil {
		refuse(sip.StatusNotAcceptableHere, "Not Acceptable Here", "reinvite_refused")
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", []byte(answer))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(&sip.ContactHeader{Address: s.ourURI("parley", src)})
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: re-INVITE answer", "err", err)
		return
	}
	if held {
		s.n.CountSIP("reinvite_hold")
	} else {
		s.n.CountSIP("reinvite_ok")
	}
}

// readInDialog checks a request's CSeq against the call's dialog (the
// phone's requests only go up).
func (s *Server) readInDialog(c *call, req *sip.Request, tx sip.ServerTransaction) error {
	switch {
	case c.server != nil:
		return c.server.ReadRequest(req, tx)
	case c.client != nil:
		return c.client.ReadRequest(req, tx)
	}
	return nil
}
