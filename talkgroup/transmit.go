package talkgroup

import (
	"context"
	"errors"
	"slices"
	"time"

	"parley/identity"
	"parley/media/opus"
	"parley/media/voice"
)

var errPreempted = errors.New("talkgroup: floor taken")

// treeRefresh is how often the speaker recomputes its tree and tells the
// forwarders: a member that joined (or came online) mid-transmission is in
// the tree within a second of its record reaching the speaker.
const treeRefresh = time.Second

// transmit encodes the source once and sends each frame, signed, to the
// root of the tree, until ctx ends (release, preemption, MaxTalk).
func (s *Service) transmit(ctx context.Context, roomID string, t *transmit) {
	var list []identity.PeerID
	defer func() {
		s.finish(roomID, t, list)
	}()
	src, err := s.cfg.OpenSource()
	if err != nil {
		s.cfg.Log.Warn("ptt: audio source", "err", err)
		s.count("ptt_source_failed")
		return
	}
	defer src.Close()
	enc, err := opus.NewEncoder(opus.Options{DTX: true})
	if err != nil {
		s.cfg.Log.Warn("ptt: encoder", "err", err)
		return
	}
	var seq uint32
	var treeAt time.Time
	write := func(payload []byte, _ time.Duration) error {
		now := s.cfg.Now()
		if seq == 0 || now.Sub(treeAt) >= treeRefresh {
			old := list
			list, treeAt = s.buildTree(roomID, old), now
			s.sendTree(roomID, t.claim, list, old)
		}
		f, err := Encode(s.cfg.Identity, Frame{Kind: KindAudio, Room: roomID, TX: t.claim.TX, Seq: seq, Opus: payload})
		if err != nil {
			s.count("ptt_drop_encode")
			return nil
		}
		s.mu.Lock()
		ok := false
		if r := s.rooms[roomID]; r != nil {
			ok, _ = r.floor.Audio(t.claim, now)
			if ok {
				r.rec.add(t.claim, payload)
			}
		}
		s.mu.Unlock()
		if !ok {
			return errPreempted
		}
		for _, c := range RootChildren(list, s.cfg.FanOut) {
			s.send(c, f)
		}
		s.count("ptt_frames_sent")
		seq++
		return nil
	}
	if err := voice.NewSender(src, enc).Run(ctx, write); err != nil && !errors.Is(err, errPreempted) {
		s.cfg.Log.Warn("ptt: transmission", "err", err)
	}
}

// finish ends a transmission: the end frame goes down the tree, the floor is
// freed here, and a key still down is queued again (preempted).
func (s *Service) finish(roomID string, t *transmit, list []identity.PeerID) {
	t.cancel()
	if f, err := Encode(s.cfg.Identity, Frame{Kind: KindEnd, Room: roomID, TX: t.claim.TX}); err == nil {
		for _, c := range RootChildren(list, s.cfg.FanOut) {
			s.send(c, f)
		}
	}
	now := s.cfg.Now()
	var evs []Event
	s.mu.Lock()
	if r := s.rooms[roomID]; r != nil && r.tx == t {
		r.tx = nil
		ch := r.floor.End(t.claim, now)
		if ch.Ended != nil {
			ch.Why = t.why
		}
		evs = s.changeEvents(roomID, r, ch)
		if t.why == "max_talk" {
			r.want = false // the key must be pressed again
		}
		if r.want {
			evs = append(evs, s.takeOrQueueLocked(roomID, r, now)...)
		}
	}
	s.mu.Unlock()
	s.emit(evs)
}

// buildTree orders the room's online members for the tree, best forwarders
// first, at most MaxTree. Within a transmission the order is kept (old): the
// members still online keep their places and newcomers are appended in rank
// order, so a refresh moves nobody and no frame reaches a member twice or
// not at all while forwarders learn the new tree.
func (s *Service) buildTree(roomID string, old []identity.PeerID) []identity.PeerID {
	m := s.cfg.Members(roomID)
	if len(m) > 1 {
		m = s.cfg.Rank(m)
	}
	if old != nil {
		kept := make([]identity.PeerID, 0, len(m))
		for _, id := range old {
			if slices.Contains(m, id) {
				kept = append(kept, id)
			}
		}
		for _, id := range m {
			if !slices.Contains(kept, id) {
				kept = append(kept, id)
			}
		}
		m = kept
	}
	return m[:min(len(m), MaxTree)]
}

// sendTree tells each forwarder of list the tree of transmission c, and each
// forwarder of the previous tree (old) that no longer is one, so it stops.
func (s *Service) sendTree(roomID string, c Claim, list, old []identity.PeerID) {
	fw := Forwarders(list, s.cfg.FanOut)
	for _, id := range Forwarders(old, s.cfg.FanOut) {
		if !slices.Contains(fw, id) {
			fw = append(fw, id)
		}
	}
	if len(fw) == 0 {
		return
	}
	f, err := Encode(s.cfg.Identity, Frame{Kind: KindTree, Room: roomID, TX: c.TX, Tree: list})
	if err != nil {
		return
	}
	for _, p := range fw {
		s.send(p, f)
	}
}
