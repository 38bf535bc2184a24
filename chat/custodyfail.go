package chat

import (
	"time"

	"parley/identity"
)

// Custodians that fail: a custodian answers a custody request with a custody
// ack once the envelope is stored (one bbolt write, well under a second on a
// LAN). A request left unanswered for custodyAckWait — the custodian dropped it,
// was full (custody_refused_full sends no ack), or its link lost it — is a
// failure of that custodian, told to the Custodians when it implements
// CustodyFailures, so the next message is entrusted to another neighbour
// (node/chat.go ranks custodians by reputation, linkquality.Reputation).
const (
	// defaultCustodyAckWait is Config.CustodyAckWait's default: five times the
	// longest ack seen in the chat itests, short enough that the next queued
	// message already goes elsewhere.
	defaultCustodyAckWait = 5 * time.Second
	// maxCustodyWaits bounds the requests awaiting an ack; past it the oldest is
	// forgotten without counting against anyone.
	maxCustodyWaits = 256
)

// CustodyFailures is implemented by Custodians that want to hear of a
// custodian that did not acknowledge a request in time.
type CustodyFailures interface {
	CustodyFailed(holder identity.PeerID)
}

// custodyWait is a custody request sent and not yet acknowledged.
type custodyWait struct {
	holder identity.PeerID
	due    time.Time
}

// awaitCustodyAck notes a request to holder for message id.
func (s *Service) awaitCustodyAck(id string, holder identity.PeerID, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.custodyWaits == nil {
		s.custodyWaits = map[string]custodyWait{}
	}
	if _, ok := s.custodyWaits[id]; !ok && len(s.custodyWaits) >= maxCustodyWaits {
		var oldest string
		for k, w := range s.custodyWaits {
			if oldest == "" || w.due.Before(s.custodyWaits[oldest].due) {
				oldest = k
			}
		}
		delete(s.custodyWaits, oldest)
	}
	s.custodyWaits[id] = custodyWait{holder: holder, due: now.Add(s.cfg.CustodyAckWait)}
}

// custodyAcked clears the wait for id when from is the custodian asked.
func (s *Service) custodyAcked(from identity.PeerID, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.custodyWaits[id]; ok && w.holder == from {
		delete(s.custodyWaits, id)
	}
}

// sweepCustodyWaits reports custodians whose requests are overdue
// (custody_unacked), once per request.
func (s *Service) sweepCustodyWaits(now time.Time) {
	var failed []identity.PeerID
	s.mu.Lock()
	for id, w := range s.custodyWaits {
		if now.After(w.due) {
			failed = append(failed, w.holder)
			delete(s.custodyWaits, id)
		}
	}
	s.mu.Unlock()
	if len(failed) == 0 {
		return
	}
	s.cfg.Stats.Add("custody_unacked", uint64(len(failed)))
	if f, ok := s.cfg.Custodians.(CustodyFailures); ok {
		for _, h := range failed {
			f.CustodyFailed(h)
		}
	}
}
