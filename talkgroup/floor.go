package talkgroup

import (
	"slices"
	"time"

	"parley/identity"
)

// Floor timing; doc.go ("Floor control") gives the reasons.
const (
	// Silence: no frame of the holder's transmission for this long and the
	// holder is taken to be gone (crash, link loss): the floor is free. Audio
	// frames come every 20 ms, so 1 s is 50 missing frames in a row.
	Silence = time.Second
	// MaxTalk is the longest transmission: the speaker stops itself, and
	// listeners refuse its frames past MaxTalk+Silence.
	MaxTalk = 60 * time.Second
	// GrantWait is how long the head of the queue has, once the floor is free,
	// to start speaking before the others drop it from the queue.
	GrantWait = 2 * time.Second
	// MaxQueue bounds the queue of floor requests of a room.
	MaxQueue = 32
	// endedMemory is how many ended transmissions a floor remembers, so late
	// frames of one do not take the floor again.
	endedMemory = 8
)

// Claim names one transmission: its speaker and its start (the speaker's
// clock, unix ms). Of two transmissions in a race, the earlier claim wins
// (Before), the lower peer ID on a tie: every member compares the same
// two values, so every member picks the same winner.
type Claim struct {
	Speaker identity.PeerID
	TX      uint64
}

// Before reports whether c wins the floor against o.
func (c Claim) Before(o Claim) bool {
	return c.TX < o.TX || c.TX == o.TX && c.Speaker.Less(o.Speaker)
}

// Request is a queued floor request: At is the requester's clock (unix ms).
type Request struct {
	Peer identity.PeerID
	At   uint64
}

// Change is what a floor step did: a transmission Ended (Why: "end",
// "preempted", "silence", "max_talk") and/or one Started.
type Change struct {
	Ended, Started *Claim
	Why            string
}

// Floor is one room's floor: who holds it and who waits. It is a pure state
// machine (time is passed in); the Service serialises calls.
type Floor struct {
	held        bool
	holder      Claim
	since, last time.Time
	freeAt      time.Time
	queue       []Request
	ended       []Claim
}

// Holder returns the current transmission, if any.
func (f *Floor) Holder() (Claim, bool) { return f.holder, f.held }

// Audio records a frame of transmission c heard (or sent) at now and says
// whether to take it.
func (f *Floor) Audio(c Claim, now time.Time) (bool, Change) {
	var ch Change
	if slices.Contains(f.ended, c) {
		return false, ch
	}
	switch {
	case !f.held:
	case f.holder == c:
		if now.Sub(f.since) > MaxTalk+Silence {
			return false, ch
		}
		f.last = now
		return true, ch
	case c.Before(f.holder):
		old := f.holder
		f.endLocked(now)
		ch.Ended, ch.Why = &old, "preempted"
	default:
		return false, ch
	}
	f.held, f.holder, f.since, f.last = true, c, now, now
	f.Cancel(c.Speaker)
	ch.Started = &c
	return true, ch
}

// End ends transmission c (its speaker let go).
func (f *Floor) End(c Claim, now time.Time) Change {
	if !f.held || f.holder != c {
		if !slices.Contains(f.ended, c) {
			f.remember(c) // an end overtaking its audio: refuse the audio after it
		}
		return Change{}
	}
	f.endLocked(now)
	return Change{Ended: &c, Why: "end"}
}

func (f *Floor) endLocked(now time.Time) {
	f.remember(f.holder)
	f.held, f.freeAt = false, now
}

func (f *Floor) remember(c Claim) {
	if len(f.ended) == endedMemory {
		f.ended = f.ended[1:]
	}
	f.ended = append(f.ended, c)
}

// Tick frees a floor whose holder went silent or talked too long, and drops
// a queue head that did not take a free floor in time.
func (f *Floor) Tick(now time.Time) Change {
	if f.held {
		why := ""
		switch {
		case now.Sub(f.last) > Silence:
			why = "silence"
		case now.Sub(f.since) > MaxTalk+Silence:
			why = "max_talk"
		}
		if why != "" {
			old := f.holder
			f.endLocked(now)
			return Change{Ended: &old, Why: why}
		}
		return Change{}
	}
	if len(f.queue) > 0 && now.Sub(f.freeAt) > GrantWait {
		f.queue = f.queue[1:]
		f.freeAt = now
	}
	return Change{}
}

// Request queues r (a peer already queued keeps its earlier place); false
// when the queue is full.
func (f *Floor) Request(r Request) bool {
	if i := slices.IndexFunc(f.queue, func(q Request) bool { return q.Peer == r.Peer }); i >= 0 {
		if f.queue[i].At <= r.At {
			return true
		}
		f.queue = slices.Delete(f.queue, i, i+1)
	}
	if len(f.queue) >= MaxQueue {
		return false
	}
	i, _ := slices.BinarySearchFunc(f.queue, r, func(a, b Request) int {
		if a.At != b.At {
			if a.At < b.At {
				return -1
			}
			return 1
		}
		return a.Peer.Compare(b.Peer)
	})
	f.queue = slices.Insert(f.queue, i, r)
	return true
}

// Cancel takes peer out of the queue.
func (f *Floor) Cancel(peer identity.PeerID) {
	f.queue = slices.DeleteFunc(f.queue, func(q Request) bool { return q.Peer == peer })
}

// Position is peer's place in the queue, from 1; 0 when not queued.
func (f *Floor) Position(peer identity.PeerID) int {
	return slices.IndexFunc(f.queue, func(q Request) bool { return q.Peer == peer }) + 1
}

// MayTake reports whether peer may take the floor now: it is free and no one
// is queued ahead of peer.
func (f *Floor) MayTake(peer identity.PeerID) bool {
	return !f.held && (len(f.queue) == 0 || f.queue[0].Peer == peer)
}

// Quiet says whether the floor has nothing to time: free, nobody queued.
func (f *Floor) Quiet() bool { return !f.held && len(f.queue) == 0 }

// Queue returns a copy of the queue, first first.
func (f *Floor) Queue() []Request { return slices.Clone(f.queue) }
