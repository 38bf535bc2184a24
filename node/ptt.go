package node

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"

	"parley/identity"
	"parley/internal/wire"
	"parley/media/audio"
	"parley/selection"
	"parley/talkgroup"
)

// Push-to-talk talkgroups (issue 24; package talkgroup has the rules and the
// wire format, docs/emergency.md the user's view). A room is a talkgroup for
// this node once SetTalkgroup marked it: this node then plays what members
// say in it, and may press to talk. Membership is the room's (records'
// rooms): every member online gets the frames and may forward them whether
// it plays them or not.

// settingTalkgroups is the settings key holding the rooms marked as talkgroups
// (a JSON list of room IDs).
const settingTalkgroups = "ptt.rooms"

// maxTalkgroups bounds the rooms marked as talkgroups.
const maxTalkgroups = 64

// PTTState: Speaker started (On) or stopped talking in talkgroup Room
// ("ptt_state"). Reason says why a transmission ended: "end" (let go),
// "released" (this node let go), "preempted" (lost a race for the floor),
// "silence" (the speaker vanished), "max_talk" (60 s).
type PTTState struct {
	Room    string `json:"room"`
	Speaker string `json:"speaker"`
	Name    string `json:"name,omitempty"`
	On      bool   `json:"on"`
	Reason  string `json:"reason,omitempty"`
}

// PTTBusy: this node pressed to talk in Room while Speaker held the floor
// ("ptt_busy"); it waits at Position (from 1) in the room's queue and takes
// the floor in turn while the key stays down.
type PTTBusy struct {
	Room     string `json:"room"`
	Speaker  string `json:"speaker"`
	Position int    `json:"position"`
}

func (PTTState) EventName() string { return "ptt_state" }
func (PTTBusy) EventName() string  { return "ptt_busy" }

// ErrNotTalkgroup: PTT in a room not marked as a talkgroup here.
var ErrNotTalkgroup = errors.New("that room is not a talkgroup (mark it with talkgroup first)")

type talkgroups struct {
	mu    sync.Mutex
	rooms []string
}

func (t *talkgroups) has(room string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Contains(t.rooms, room)
}

func (n *Node) setupPTT() {
	if v, ok, _ := n.db.Setting(settingTalkgroups); ok {
		json.Unmarshal([]byte(v), &n.tg.rooms)
	}
	n.ptt = talkgroup.New(talkgroup.Config{
		Identity: n.id, Net: overlayNet{n.ov}, Type: wire.FramePTT,
		Joined:  n.rooms.Joined,
		Members: n.pttMembers,
		Monitor: n.tg.has,
		Rank:    n.pttRank,
		OpenSource: func() (audio.Source, error) {
			in, _ := n.Audio()
			return audio.ParseSource(in)
		},
		OpenSink: func() (audio.Sink, error) {
			_, out := n.Audio()
			return audio.ParseSink(out)
		},
		Emit: n.onPTT, Stats: &n.stats, Now: n.cfg.Now, Log: n.log,
	})
	n.ov.Handle(wire.FramePTT, func(from identity.PeerID, p []byte) { n.ptt.Handle(from, p) })
	n.ov.HandleRouted(wire.FramePTT, func(_, via identity.PeerID, p []byte) { n.ptt.Handle(via, p) })
}

func (n *Node) runPTT(ctx context.Context) { n.ptt.Run(ctx) }

// pttMembers is a room's other members online.
func (n *Node) pttMembers(room string) []identity.PeerID {
	return slices.DeleteFunc(n.rooms.Members(room), func(p identity.PeerID) bool {
		return p == n.id.ID || !n.ov.Online(p)
	})
}

// pttRank orders members best forwarder first (selection's ptt purpose: path
// RTT from this node, spare bandwidth, CPU); members the ranking leaves out
// (no record yet) go last.
func (n *Node) pttRank(members []identity.PeerID) []identity.PeerID {
	cands := make([]string, len(members))
	for i, m := range members {
		cands[i] = m.String()
	}
	p := selection.PTTForward
	ranked := selection.Rank(n.qual.Graph(), selection.Request{Purpose: p, From: n.id.ID.String(), Candidates: cands}, selection.DefaultWeights(p), n.costMapNow())
	out := make([]identity.PeerID, 0, len(members))
	for _, r := range ranked {
		if id, err := identity.ParsePeerID(r.ID); err == nil && slices.Contains(members, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, m := range members {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func (n *Node) onPTT(ev talkgroup.Event) {
	switch e := ev.(type) {
	case talkgroup.State:
		n.emit(PTTState{Room: e.Room, Speaker: e.Speaker.String(), Name: n.nameOf(e.Speaker), On: e.On, Reason: e.Why})
	case talkgroup.Busy:
		n.emit(PTTBusy{Room: e.Room, Speaker: e.Holder.String(), Position: e.Position})
	}
}

// SetTalkgroup marks a joined room as a talkgroup (on) or not.
func (n *Node) SetTalkgroup(room string, on bool) error {
	if !n.rooms.Joined(room) {
		return talkgroup.ErrNotMember
	}
	n.tg.mu.Lock()
	defer n.tg.mu.Unlock()
	has := slices.Contains(n.tg.rooms, room)
	switch {
	case on && !has:
		if len(n.tg.rooms) >= maxTalkgroups {
			return errors.New("too many talkgroups")
		}
		n.tg.rooms = append(n.tg.rooms, room)
	case !on && has:
		n.tg.rooms = slices.DeleteFunc(n.tg.rooms, func(r string) bool { return r == room })
		n.ptt.Release(room)
	default:
		return nil
	}
	b, _ := json.Marshal(n.tg.rooms)
	return n.db.SetSetting(settingTalkgroups, string(b))
}

// Talkgroups lists the rooms marked as talkgroups.
func (n *Node) Talkgroups() []string {
	n.tg.mu.Lock()
	defer n.tg.mu.Unlock()
	return append([]string{}, n.tg.rooms...)
}

// PTT presses (on) or releases the talk key in a talkgroup: pressed, this
// node talks when the floor is free, else gets ptt_busy and waits its turn.
func (n *Node) PTT(room string, on bool) error {
	if !n.tg.has(room) {
		return ErrNotTalkgroup
	}
	if on {
		return n.ptt.Press(room)
	}
	return n.ptt.Release(room)
}

// PTTReplay plays a talkgroup's last transmission to this node's speaker.
func (n *Node) PTTReplay(room string) error {
	if !n.tg.has(room) {
		return ErrNotTalkgroup
	}
	return n.ptt.Replay(room)
}
