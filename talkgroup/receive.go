package talkgroup

import (
	"slices"

	"parley/identity"
)

// maxSpeakers bounds the per-speaker state (rate buckets, trees) of a room.
const maxSpeakers = 256

// Handle takes a PTT frame that arrived over the overlay (direct or routed).
// Everything is checked before it costs more than a decode: the room must be
// one this node joined, the signer a member online with a known key, the
// signature good, the speaker within its frame rate.
//
// via is the neighbour the frame came from (the link's authenticated peer):
// its frames are bounded before any signature is checked, so a neighbour
// sending junk costs at most viaRate verifications a second.
func (s *Service) Handle(via identity.PeerID, p []byte) {
	defer s.poke()
	if !s.takeVia(via) {
		s.count("ptt_drop_via_rate")
		return
	}
	f, err := Decode(p)
	if err != nil {
		s.count("ptt_drop_malformed")
		return
	}
	if f.Speaker == s.self() {
		s.count("ptt_drop_self")
		return
	}
	if !s.cfg.Joined(f.Room) {
		s.count("ptt_drop_room")
		return
	}
	pub := s.cfg.Net.PublicKey(f.Speaker)
	if pub == nil {
		s.count("ptt_drop_unknown")
		return
	}
	if Verify(p, pub) != nil {
		s.count("ptt_drop_sig")
		return
	}
	if !slices.Contains(s.cfg.Members(f.Room), f.Speaker) {
		s.count("ptt_drop_member")
		return
	}
	now := s.cfg.Now()
	c := Claim{Speaker: f.Speaker, TX: f.TX}
	var evs []Event
	var fwd []identity.PeerID
	s.mu.Lock()
	r := s.roomLocked(f.Room)
	if r == nil {
		s.mu.Unlock()
		s.count("ptt_drop_rooms")
		return
	}
	// Every kind takes a token of the signer's bucket: requests, cancels and
	// trees cost a signature check each too.
	b := r.buckets[f.Speaker]
	if b == nil {
		if len(r.buckets) >= maxSpeakers {
			clear(r.buckets)
		}
		b = &bucket{}
		r.buckets[f.Speaker] = b
	}
	if !b.take(now) {
		s.mu.Unlock()
		s.count("ptt_drop_rate")
		return
	}
	switch f.Kind {
	case KindTree:
		if len(r.trees) >= maxSpeakers {
			clear(r.trees)
		}
		if t, ok := r.trees[f.Speaker]; !ok || f.TX >= t.tx {
			r.trees[f.Speaker] = forwardTree{tx: f.TX, list: f.Tree}
		}
	case KindAudio:
		if r.dup != c {
			r.dup, r.dupWin = c, seen{}
		}
		if !r.dupWin.add(f.Seq) {
			s.mu.Unlock()
			s.count("ptt_drop_dup")
			return
		}
		ok, ch := r.floor.Audio(c, now)
		if !ok {
			s.mu.Unlock()
			s.count("ptt_drop_floor")
			return
		}
		evs = s.changeEvents(f.Room, r, ch)
		fwd = s.childrenLocked(r, c)
		r.rec.add(c, f.Opus)
		if s.cfg.Monitor(f.Room) {
			s.pushLocked(f.Room, c, f.Seq, f.Opus, now)
		}
	case KindEnd:
		fwd = s.childrenLocked(r, c)
		evs = s.changeEvents(f.Room, r, r.floor.End(c, now))
		evs = append(evs, s.grantLocked(f.Room, r, now)...)
	case KindRequest:
		if !r.floor.Request(Request{Peer: f.Speaker, At: f.TX}) {
			s.count("ptt_drop_queue")
		}
	case KindCancel:
		r.floor.Cancel(f.Speaker)
		evs = s.grantLocked(f.Room, r, now)
	}
	s.mu.Unlock()
	s.emit(evs)
	if len(fwd) > 0 {
		for _, to := range fwd {
			s.send(to, p)
		}
		s.cfg.Stats.Add("ptt_forwarded", uint64(len(fwd)))
	}
}

// childrenLocked is who this node forwards c's frames to.
func (s *Service) childrenLocked(r *room, c Claim) []identity.PeerID {
	t, ok := r.trees[c.Speaker]
	if !ok || t.tx != c.TX {
		return nil
	}
	return Children(t.list, s.self(), s.cfg.FanOut)
}

// takeVia spends a token of via's bucket.
func (s *Service) takeVia(via identity.PeerID) bool {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.vias[via]
	if b == nil {
		if len(s.vias) >= maxSpeakers {
			clear(s.vias)
		}
		b = &bucket{rate: viaRate, burst: viaRate}
		s.vias[via] = b
	}
	return b.take(now)
}
