package sip

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"parley/node"
)

// Calls both ways between a phone and Parley peers. The phone's node is the
// Parley end of each call; its audio is the phone's RTP (node.SIPOffer,
// SIPAnswer, SIPAccept, SIPMediaEnd).
//
// Outcomes map so (SIP → Parley call_state reasons, and back):
//
//	phone answers (200)              → the call is answered (active)
//	486 Busy Here / 600 Busy Everywhere → busy (the caller sees "busy")
//	603 Decline, other 4xx–6xx       → declined
//	phone sends BYE                  → hang-up (the peer sees "remote_hangup")
//	Parley caller gives up / times out → CANCEL to the phone
//	Parley peer hangs up             → BYE to the phone
//	(phone calling) peer busy        → 486; declined → 603; timeout → 480;
//	                                   peer offline or failed → 480
//	(phone calling) CANCEL           → the Parley call is hung up

// call is one call between a phone and a peer.
type call struct {
	parley string              // the Parley call ID
	states chan node.CallState // the phone's node's states of it
	sipID  string
	client *sipgo.DialogClientSession // an outgoing INVITE's dialog, or
	server *sipgo.DialogServerSession // an incoming one's
	// gone is closed when the phone's node stopped (expired, unregistered):
	// its events stop, so the call's SIP side ends on this instead.
	gone <-chan struct{}
	// n is the phone's node and phone its signalling address: a BYE or
	// re-INVITE (hold.go) must come from there (or from also, the address
	// the phone's 200 came from, when that differs from its contact's) and
	// is answered by that node.
	n     *node.Node
	phone netip.Addr
	also  netip.Addr // guarded by Server.mu: set once the phone answered
}

// fromPhone says whether src is call c's phone.
func (s *Server) fromPhone(c *call, src netip.Addr) bool {
	s.mu.Lock()
	also := c.also
	s.mu.Unlock()
	src = src.Unmap()
	return src == c.phone.Unmap() || (also.IsValid() && src == also)
}

// ringTimeout bounds how long the phone rings for a Parley caller; the
// caller's own RingTimeout (30 s) usually ends it first.
const ringTimeout = 60 * time.Second

func (s *Server) addCall(c *call) {
	s.mu.Lock()
	s.calls["p:"+c.parley] = c
	if c.sipID != "" {
		s.calls["s:"+c.sipID] = c
	}
	s.mu.Unlock()
}

func (s *Server) dropCall(c *call) {
	s.mu.Lock()
	delete(s.calls, "p:"+c.parley)
	delete(s.calls, "s:"+c.sipID)
	s.mu.Unlock()
}

func (s *Server) callBySIP(req *sip.Request) *call {
	id := req.CallID()
	if id == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls["s:"+id.Value()]
}

// callState passes a Parley call's state to its SIP side (never blocking
// the device's event loop: states are few, the channel holds them).
func (s *Server) callState(e node.CallState) {
	s.mu.Lock()
	c := s.calls["p:"+e.Call]
	s.mu.Unlock()
	if c == nil {
		return
	}
	select {
	case c.states <- e:
	default:
	}
}

func (s *Server) dialogUA(phone sip.Uri) *sipgo.DialogUA {
	_, ip := splitHost(phone)
	return &sipgo.DialogUA{Client: s.client, ContactHDR: sip.ContactHeader{Address: s.ourURI("parley", ip)}}
}

// ringPhone: a peer calls the phone's node; INVITE the phone and bridge.
func (d *device) ringPhone(in node.CallIncoming) {
	s, n := d.s, d.dev.Node()
	contact, ip := d.target()
	c := &call{parley: in.Call, states: make(chan node.CallState, 16), gone: d.dev.Done(), n: n, phone: ip}
	s.addCall(c)
	defer s.dropCall(c)
	defer func() { s.n.CountSIPMedia(n.SIPMediaEnd()) }()
	offer, err := n.SIPOffer(ip)
	if err != nil {
		s.log.Warn("sip: no media for the phone", "err", err)
		n.Decline(in.Call)
		return
	}
	name := in.Name
	if name == "" {
		name = peerName(n, in.From)
	}
	from := &sip.FromHeader{DisplayName: name, Address: s.ourURI(in.From, ip), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	ctx, cancel := context.WithTimeout(s.ctx, ringTimeout)
	defer cancel()
	req := sip.NewRequest(sip.INVITE, contact)
	if t, ok := contact.UriParams.Get("transport"); ok {
		req.SetTransport(strings.ToUpper(t))
	}
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: d.phoneURI(ip)})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte(offer))
	sess, err := s.dialogUA(contact).WriteInvite(ctx, req)
	if err != nil {
		s.log.Warn("sip: invite failed", "user", d.user, "err", err)
		n.Decline(in.Call)
		return
	}
	defer sess.Close()
	c.client = sess
	if id := sess.InviteRequest.CallID(); id != nil {
		c.sipID = id.Value()
		s.addCall(c)
	}
	// The Parley caller may give up while the phone rings: cancel then.
	answered := make(chan error, 1)
	go func() { answered <- sess.WaitAnswer(ctx, sipgo.AnswerOptions{}) }()
	var werr error
wait:
	for {
		select {
		case werr = <-answered:
			break wait
		case st := <-c.states:
			if st.State == "ended" {
				cancel() // WaitAnswer sends CANCEL
				<-answered
				s.n.CountSIP("call_out_cancelled")
				return
			}
		case <-c.gone:
			cancel()
			<-answered
			return
		}
	}
	if werr != nil {
		var dr *sipgo.ErrDialogResponse
		busy := false
		if errors.As(werr, &dr) {
			s.log.Info("sip: the phone did not take the call", "user", d.user, "status", dr.Res.StatusCode)
			busy = dr.Res.StatusCode == sip.StatusBusyHere || dr.Res.StatusCode == 600
		}
		s.n.CountSIP("call_out_refused")
		if busy {
			n.DeclineBusy(in.Call)
		} else {
			n.Decline(in.Call)
		}
		return
	}
	if ap, err := netip.ParseAddrPort(sess.InviteResponse.Source()); err == nil {
		s.mu.Lock()
		c.also = ap.Addr().Unmap() // a multi-homed phone may answer from another address
		s.mu.Unlock()
	}
	if err := n.SIPAccept(ip, sess.InviteResponse.Body()); err != nil {
		s.log.Warn("sip: the phone's answer has no usable audio", "err", err)
		sess.Ack(ctx)
		sess.Bye(context.Background())
		n.Decline(in.Call)
		return
	}
	if err := sess.Ack(s.ctx); err != nil {
		s.log.Warn("sip: ack", "err", err)
	}
	if err := n.Answer(in.Call); err != nil {
		sess.Bye(s.ctx)
		return
	}
	s.n.CountSIP("call_out_answered")
	s.bridgeUntilEnd(c, sess.Context(), func() { s.bye(sess.Bye) }, n)
}

// bridgeUntilEnd waits for either end to hang up and tells the other.
func (s *Server) bridgeUntilEnd(c *call, dialog context.Context, bye func(), n *node.Node) {
	for {
		select {
		case st := <-c.states:
			if st.State == "ended" {
				bye()
				return
			}
		case <-dialog.Done(): // the phone's BYE
			n.Hangup(c.parley)
			return
		case <-c.gone: // the phone's node said goodbye (its peers' calls ended)
			bye()
			return
		case <-s.ctx.Done():
			bye()
			n.Hangup(c.parley)
			return
		}
	}
}

// bye ends a dialog with BYE, waiting at most requestTimeout for the phone.
func (s *Server) bye(b func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	b(ctx)
}

// onInvite: the phone dials sip:<name or peer ID>@<this node>; its node
// calls that peer, and the phone hears the call once the peer answers.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	src, _ := sourceAddr(req)
	if c := s.callBySIP(req); c != nil {
		s.onReinvite(c, req, tx, src) // hold, resume, a new RTP address (hold.go)
		return
	}
	if len(req.Body()) > maxBody {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusRequestEntityTooLarge, "Request Entity Too Large", nil))
		return
	}
	var d *device
	if s.unregisteredCaller(req) {
		if !s.n.SIPUnregistered() {
			s.n.CountSIP("unregistered_refused")
			tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden (register first)", nil))
			return
		}
		var err error
		if d, err = s.directCaller(req, src); err != nil {
			s.log.Warn("sip: no node for an unregistered caller", "from", src, "err", err)
			tx.Respond(sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil))
			return
		}
		s.n.CountSIP("unregistered_accepted")
	} else {
		user, ok := s.authenticate(req, tx, src)
		if !ok {
			return
		}
		if d = s.device(user); d == nil {
			tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden (not registered)", nil))
			return
		}
	}
	d.callBegins()
	defer d.callEnds()
	to, err := s.resolve(d, req.Recipient.User)
	if err != nil {
		s.respondResolve(req, tx, err)
		return
	}
	n := d.dev.Node()
	answer, err := n.SIPAnswer(src, req.Body())
	if err != nil {
		s.n.CountSIP("call_in_no_media")
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
		return
	}
	defer func() { s.n.CountSIPMedia(n.SIPMediaEnd()) }()
	contact := sip.Uri{}
	if ch := req.Contact(); ch != nil {
		contact = ch.Address
	}
	sess, err := s.dialogUA(contact).ReadInvite(req, tx)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	defer sess.Close()
	var callID string
	if d.direct { // its node is new: it may not have seen the peer yet
		ctx, cancel := context.WithTimeout(s.ctx, directOnline)
		callID, err = d.dev.CallWhenOnline(ctx, to)
		cancel()
	} else {
		callID, err = n.Call(to)
	}
	if err != nil {
		sess.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
		return
	}
	c := &call{parley: callID, states: make(chan node.CallState, 16), server: sess, gone: d.dev.Done(), n: n, phone: src}
	if id := req.CallID(); id != nil {
		c.sipID = id.Value()
	}
	s.addCall(c)
	defer s.dropCall(c)
	sess.Respond(sip.StatusRinging, "Ringing", nil)
	for {
		select {
		case st := <-c.states:
			switch st.State {
			case "active":
				if err := sess.RespondSDP([]byte(answer)); err != nil {
					n.Hangup(callID)
					return
				}
				s.n.CountSIP("call_in_answered")
				s.bridgeUntilEnd(c, sess.Context(), func() { s.bye(sess.Bye) }, n)
				return
			case "ended":
				code, reason := endedStatus(st.Reason)
				sess.Respond(code, reason, nil)
				return
			}
		case <-sess.Context().Done(): // CANCEL, or the transaction died
			n.Hangup(callID)
			return
		case <-c.gone:
			sess.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
			return
		case <-s.ctx.Done():
			n.Hangup(callID)
			return
		}
	}
}

// unregisteredCaller: an INVITE without credentials whose From names none of
// this node's accounts comes from a phone that did not register here. (A
// registered phone's first INVITE has no credentials either; it is From its
// account and gets the 407 challenge.)
func (s *Server) unregisteredCaller(req *sip.Request) bool {
	if req.GetHeader("Proxy-Authorization") != nil {
		return false
	}
	from := req.From()
	if from == nil {
		return true
	}
	_, known := s.n.SIPAccountHA1(from.Address.User)
	return !known
}

// directOnline bounds how long a direct caller's new node waits to see the
// peer it calls (it learns the overlay's records from its host in its first
// moments).
const directOnline = 5 * time.Second

// endedStatus is the final response to a phone whose call to a peer ended
// before it was answered.
func endedStatus(reason string) (int, string) {
	switch reason {
	case "busy":
		return sip.StatusBusyHere, "Busy Here"
	case "declined":
		return sip.StatusGlobalDecline, "Decline"
	case "timeout":
		return sip.StatusTemporarilyUnavailable, "Temporarily Unavailable (no answer)"
	}
	return sip.StatusTemporarilyUnavailable, "Temporarily Unavailable"
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c := s.callBySIP(req); c != nil && c.server != nil {
		c.server.ReadAck(req, tx)
	}
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callBySIP(req)
	src, _ := sourceAddr(req)
	switch {
	case c != nil && c.phone.IsValid() && !s.fromPhone(c, src):
		// Only the phone hangs up its call: a LAN host that saw the
		// Call-ID may not.
		s.n.CountSIP("bye_refused")
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden (not the phone of this call)", nil))
	case c == nil:
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	case c.client != nil:
		c.client.ReadBye(req, tx)
	case c.server != nil:
		c.server.ReadBye(req, tx)
	}
}

// onCancel: the transaction layer already answered 200 and ended the INVITE
// (its dialog's context, which onInvite waits on).
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {}
