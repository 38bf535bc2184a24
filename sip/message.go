package sip

import (
	"errors"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"

	"parley/identity"
	"parley/node"
)

// SIP MESSAGE (RFC 3428) ↔ the device node's 1:1 chat.

var (
	errNoSuchPeer = errors.New("sip: no such peer")
	errAmbiguous  = errors.New("sip: several peers have that name")
)

// onMessage takes a phone's MESSAGE to sip:<name or peer ID>@<this node>
// and sends its text from the phone's node.
func (s *Server) onMessage(req *sip.Request, tx sip.ServerTransaction) {
	src, _ := sourceAddr(req)
	user, ok := s.authenticate(req, tx, src)
	if !ok {
		return
	}
	d := s.device(user)
	if d == nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden (not registered)", nil))
		return
	}
	body := req.Body()
	if len(body) > maxBody {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusRequestEntityTooLarge, "Request Entity Too Large", nil))
		return
	}
	if ct := req.ContentType(); ct != nil {
		mt, _, err := mime.ParseMediaType(ct.Value())
		if err != nil || mt != "text/plain" {
			tx.Respond(sip.NewResponseFromRequest(req, sip.StatusUnsupportedMediaType, "Unsupported Media Type", nil))
			return
		}
	}
	if !utf8.Valid(body) {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request (not UTF-8)", nil))
		return
	}
	to, err := s.resolve(d, req.Recipient.User)
	if err != nil {
		s.respondResolve(req, tx, err)
		return
	}
	if _, err := d.dev.Node().Send(to, string(body)); err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Internal Error", nil))
		return
	}
	s.n.CountSIP("message_in")
	tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
}

func (s *Server) respondResolve(req *sip.Request, tx sip.ServerTransaction, err error) {
	if errors.Is(err, errAmbiguous) {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusAmbiguous, "Ambiguous", nil))
		return
	}
	tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotFound, "Not Found", nil))
}

// resolve names a peer for a phone: a peer ID; another registered phone's
// account on this node; or a display name (case-insensitive) in the phone's
// node's roster, online peers only.
func (s *Server) resolve(d *device, user string) (string, error) {
	if u, err := url.PathUnescape(user); err == nil {
		user = u
	}
	if id, err := identity.ParsePeerID(user); err == nil {
		return id.String(), nil
	}
	if accts, err := s.n.SIPAccounts(); err == nil {
		for _, a := range accts {
			if a.User == user && a.Registered && a.ID != d.dev.ID() {
				return a.ID, nil
			}
		}
	}
	roster := d.dev.Node()
	if d.direct { // a direct caller's node is new: its host knows the overlay
		roster = s.n
	}
	peers, err := roster.Roster()
	if err != nil {
		return "", err
	}
	found := ""
	for _, p := range peers {
		if p.Online && strings.EqualFold(p.Name, user) {
			if found != "" && found != p.ID {
				return "", errAmbiguous
			}
			found = p.ID
		}
	}
	if found == "" {
		return "", errNoSuchPeer
	}
	return found, nil
}

// sendMessage delivers a chat message the phone's node received as a SIP
// MESSAGE from sip:<sender's peer ID>@<this node> (so a reply goes back),
// the sender's name as display name. Its 2xx is Parley's "delivered": the
// phone's node acknowledges the message only then; without it the sender
// retries later and the phone is offered the message again.
func (d *device) sendMessage(m node.MessageReceived) {
	s := d.s
	contact, ip := d.target()
	req := sip.NewRequest(sip.MESSAGE, contact)
	if t, ok := contact.UriParams.Get("transport"); ok {
		req.SetTransport(strings.ToUpper(t))
	}
	from := &sip.FromHeader{DisplayName: peerName(d.dev.Node(), m.From), Address: s.ourURI(m.From, ip), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: d.phoneURI(ip)})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain;charset=UTF-8"))
	req.SetBody([]byte(m.Text))
	ctx, cancel := s.requestCtx()
	defer cancel()
	res, err := s.client.Do(ctx, req)
	switch {
	case err != nil:
		s.n.CountSIP("message_out_failed")
		s.log.Warn("sip: message not delivered to the phone", "user", d.user, "err", err)
	case !res.IsSuccess():
		s.n.CountSIP("message_out_failed")
		s.log.Warn("sip: the phone refused a message", "user", d.user, "status", res.StatusCode)
	default:
		s.n.CountSIP("message_out")
		d.dev.Node().ConfirmDelivery(m.From, m.ID) // the sender sees it delivered now
	}
}
