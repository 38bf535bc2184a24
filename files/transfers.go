package files

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"parley/identity"
)

// The user's side of transfers: accept, decline, cancel, list, progress.

func (s *Service) lookup(id string) (*xfer, error) {
	oid, err := ParseOfferID(id)
	if err != nil {
		return nil, err
	}
	x := s.xfers[oid]
	if x == nil {
		return nil, fmt.Errorf("no file transfer %s", id)
	}
	return x, nil
}

// Accept starts downloading an offered file into the downloads folder.
func (s *Service) Accept(id string) error {
	s.mu.Lock()
	x, err := s.lookup(id)
	if err == nil && (x.rec.Out || x.rec.State != StateOffered) {
		err = fmt.Errorf("file %s is not an open offer (%s)", id, x.rec.State)
	}
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("accept: %w", err)
	}
	if err := os.MkdirAll(s.cfg.Downloads, 0o700); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("accept: downloads folder: %w", err)
	}
	x.rec.State = StateActive
	x.rec.Temp = filepath.Join(s.cfg.Downloads, ".parley-"+x.offer.ID.String()+".part")
	err = s.resume(x, nil, s.cfg.Now())
	if err == nil {
		err = s.saveLocked(x)
	}
	if err != nil {
		s.failLocked(x, err.Error())
		s.mu.Unlock()
		return fmt.Errorf("accept: %w", err)
	}
	out := []outMsg{{to: x.offer.From(), typ: TypeAnswer, body: EncodeAnswer(Answer{ID: x.offer.ID, Verdict: VerdictAccept})}}
	out = append(out, s.startSources(x, s.cfg.Now())...)
	s.unlockAndSend(out)
	s.maybeFinish(x)
	return nil
}

// Decline refuses an offer; nothing is written but the refusal.
func (s *Service) Decline(id string) error {
	s.mu.Lock()
	x, err := s.lookup(id)
	if err == nil && (x.rec.Out || x.rec.State != StateOffered) {
		err = fmt.Errorf("file %s is not an open offer", id)
	}
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("decline: %w", err)
	}
	x.rec.State = StateDeclined
	err = s.saveLocked(x)
	from := x.offer.From()
	s.mu.Unlock()
	s.sendAll([]outMsg{{to: from, typ: TypeAnswer, body: EncodeAnswer(Answer{ID: x.offer.ID, Verdict: VerdictDecline})}})
	return err
}

// Cancel stops a transfer in either direction; a partial download is deleted.
func (s *Service) Cancel(id string) error {
	s.mu.Lock()
	x, err := s.lookup(id)
	if err == nil && x.rec.State != StateOffered && x.rec.State != StateActive {
		err = fmt.Errorf("file %s is already %s", id, x.rec.State)
	}
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("cancel: %w", err)
	}
	var to []identity.PeerID
	if x.rec.Out {
		for p := range x.sentTo {
			to = append(to, p)
		}
	} else {
		to = []identity.PeerID{x.offer.From()}
	}
	s.endLocked(x, StateCancelled, "cancelled")
	s.mu.Unlock()
	var out []outMsg
	for _, p := range to {
		out = append(out, outMsg{to: p, typ: TypeAnswer, body: EncodeAnswer(Answer{ID: x.offer.ID, Verdict: VerdictCancel})})
	}
	s.sendAll(out)
	return nil
}

// endLocked moves a transfer to a final state other than done: the download
// stops, its partial file goes, the file is no longer served for this offer.
func (s *Service) endLocked(x *xfer, state, reason string) {
	s.stopDownload(x)
	if !x.rec.Out && x.rec.Temp != "" {
		os.Remove(x.rec.Temp)
		x.rec.Temp = ""
	}
	s.removeSeed(x)
	x.rec.State, x.rec.Reason = state, reason
	if err := s.saveLocked(x); err != nil {
		s.cfg.Log.Warn("save file transfer", "id", x.rec.ID, "err", err)
	}
}

func (s *Service) failLocked(x *xfer, reason string) {
	s.cfg.Log.Warn("file transfer failed", "id", x.rec.ID, "reason", reason)
	s.endLocked(x, StateFailed, reason)
	s.emit(Failed{ID: x.rec.ID, Reason: reason, Out: x.rec.Out})
}

func (s *Service) saveLocked(x *xfer) error {
	x.rec.Updated = s.cfg.Now()
	return s.cfg.Store.PutTransfer(x.rec)
}

// Info describes one transfer (Transfers).
type Info struct {
	ID        string
	Out       bool
	Name      string
	MediaType string
	Size      uint64
	Bytes     uint64
	State     string
	Peer      string
	Room      string
	Path      string
	Hash      string
	Reason    string
	Created   time.Time // when this node made or received the offer (its clock)
}

// Transfers lists every known transfer.
func (s *Service) Transfers() []Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Info, 0, len(s.xfers))
	for _, x := range s.xfers {
		in := Info{ID: x.rec.ID, Out: x.rec.Out, Name: x.offer.Name, MediaType: x.offer.MediaType, Size: x.offer.Size,
			State: x.rec.State, Room: x.offer.Room, Path: x.rec.Path, Hash: x.offer.Root.String(), Reason: x.rec.Reason,
			Created: x.rec.Created}
		if x.rec.Out {
			in.Peer = x.rec.Peer
		} else {
			in.Peer = x.offer.From().String()
		}
		switch {
		case x.dl != nil:
			in.Bytes = x.dl.bytes
		case x.rec.State == StateDone:
			in.Bytes = x.offer.Size
		}
		out = append(out, in)
	}
	return out
}

// progressLocked emits a progress event at most every progressEvery per transfer.
func (s *Service) progressLocked(x *xfer, now time.Time) {
	var bytes uint64
	var rate float64
	switch {
	case x.dl != nil:
		bytes, rate = x.dl.bytes, x.dl.rate.rate
	case x.rec.Out && x.offer.Room == "" && x.rec.State == StateActive:
		bytes = min(x.served, x.offer.Size)
	default:
		return
	}
	if bytes == x.lastBytes || now.Sub(x.lastEmit) < progressEvery {
		return
	}
	if x.rec.Out && x.lastEmit.IsZero() {
		x.lastEmit = now
		return
	}
	if x.rec.Out {
		rate = float64(bytes-x.lastBytes) / now.Sub(x.lastEmit).Seconds()
	}
	x.lastBytes, x.lastEmit = bytes, now
	s.emit(Progress{ID: x.rec.ID, Bytes: bytes, Total: x.offer.Size, Rate: rate, Out: x.rec.Out})
}

// progressEvery rate-limits progress events (at most 4 per second per transfer).
const progressEvery = 250 * time.Millisecond

func (s *Service) addSeed(x *xfer) {
	s.seeds[x.offer.Root] = append(s.seeds[x.offer.Root], x)
}

func (s *Service) removeSeed(x *xfer) {
	list := s.seeds[x.offer.Root]
	for i, y := range list {
		if y == x {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.seeds, x.offer.Root)
	} else {
		s.seeds[x.offer.Root] = list
	}
}
