package chat

import (
	"errors"

	"parley/identity"
	"parley/store"
)

// MarkRead marks the received messages of a conversation up to and including upTo
// (or all, when upTo is empty) as read. For a 1:1 conversation the sender gets a read
// receipt; it is kept in the outbox until it has been handed to a link.
func (s *Service) MarkRead(conv, upTo string) ([]string, error) {
	var limit uint64 = ^uint64(0)
	if upTo != "" {
		m, ok, err := s.cfg.DB.GetMessageIn(conv, upTo)
		if err != nil {
			return nil, err
		}
		if !ok || m.Conv != conv {
			return nil, errors.New("no such message in that conversation")
		}
		limit = m.HLC
	}
	var ids, authors []string
	var peer string
	for cursor := store.Cursor(""); ; {
		page, err := s.cfg.DB.History(conv, cursor, 500)
		if err != nil {
			return nil, err
		}
		for _, m := range page.Messages {
			if m.HLC <= limit && m.State == store.StateReceived {
				ids, authors = append(ids, m.ID), append(authors, m.From)
				peer = m.From
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(ids) == 0 {
		return nil, nil
	}
	direct := len(conv) > 2 && conv[:2] == "d:"
	err := s.cfg.DB.Update(func(tx *store.Tx) error {
		for i, id := range ids {
			if _, _, err := tx.AdvanceState(authors[i], id, store.StateRead); err != nil {
				return err
			}
		}
		if !direct {
			return nil
		}
		return tx.PutOutbox(store.OutboxEntry{ID: "read-" + ids[len(ids)-1], To: peer, Kind: TypeRead, Payload: EncodeIDs(ids[:min(len(ids), maxIDsPerReceipt)])})
	})
	if err != nil {
		return nil, err
	}
	if direct {
		if id, perr := identity.ParsePeerID(peer); perr == nil {
			s.PeerReachable(id)
		}
	}
	return ids, nil
}

// receiptSent drops a read receipt from the outbox once a link has taken it: read
// receipts are not acknowledged, and losing one costs only a stale "delivered" mark.
func (s *Service) receiptSent(e store.OutboxEntry) {
	if e.Kind != TypeRead {
		return
	}
	if err := s.cfg.DB.Update(func(tx *store.Tx) error {
		_, err := tx.DeleteOutbox(e.ID, e.To)
		return err
	}); err != nil {
		s.cfg.Log.Warn("drop sent receipt", "err", err)
	}
}
