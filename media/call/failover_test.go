package call

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/transport/v2"
	"github.com/pion/transport/v2/vnet"
	"github.com/pion/turn/v2"

	"parley/identity"
	"parley/media/audio"
	"parley/media/signal"
)

// cutLab is a virtual network whose hosts can be cut off (a crashed process:
// nothing in, nothing out) and whose pairs can be kept apart (no direct UDP).
type cutLab struct {
	*vnetLab
	mu    sync.Mutex
	dead  map[string]bool
	apart map[[2]string]bool
}

func newCutLab(t *testing.T) *cutLab {
	l := &cutLab{vnetLab: newVnetLab(t, 0, 0, nil), dead: map[string]bool{}, apart: map[[2]string]bool{}}
	l.router.AddChunkFilter(func(c vnet.Chunk) bool {
		src, dst := c.SourceAddr().(*net.UDPAddr).IP.String(), c.DestinationAddr().(*net.UDPAddr).IP.String()
		l.mu.Lock()
		defer l.mu.Unlock()
		return !l.dead[src] && !l.dead[dst] && !l.apart[[2]string{src, dst}]
	})
	return l
}

// host adds a host; its IP follows vnetLab's numbering (10.99.0.11, .12, …).
func (l *cutLab) host(t *testing.T) (transport.Net, string) {
	nw := l.net(t)
	return nw, fmt.Sprintf("10.99.0.%d", l.next)
}

func (l *cutLab) kill(ip string) { l.mu.Lock(); l.dead[ip] = true; l.mu.Unlock() }

func (l *cutLab) keepApart(a, b string) {
	l.mu.Lock()
	l.apart[[2]string{a, b}], l.apart[[2]string{b, a}] = true, true
	l.mu.Unlock()
}

// crash makes p vanish as a killed process does: its signalling and its
// media are dropped from now on, and every other party's node reports it gone
// from the overlay (PeerGone), as the node does on the overlay's PeerOffline.
func crash(b *bus, lab *cutLab, ip string, p identity.PeerID, others []*party) {
	lab.kill(ip)
	b.mu.Lock()
	prev := b.drop
	b.drop = func(from, to identity.PeerID, m *Message) bool {
		return from == p || to == p || (prev != nil && prev(from, to, m))
	}
	b.mu.Unlock()
	for _, o := range others {
		o.m.PeerGone(p)
	}
}

// gapAround is the longest stretch (ms) in which p does not hear q's tone in
// what p played from frame from on.
func gapAround(p, q *party, from int) float64 {
	frames := p.out.snapshot()[from:]
	_, n := signal.ToneGap(flatten(frames), q.src.hz, audio.SampleRate, audio.FrameSamples, 0.3)
	return float64(n) / audio.SampleRate * 1000
}

// TestMixerLost: a five-party call mixed by party 3 loses it (a crash: no
// goodbye). The lowest-ID remaining participant, party 1, takes over without
// anyone pressing anything; the call keeps its ID, everyone is told
// (mixer_moved), the four hear each other again, and the gap in what each
// hears is under the issue's 2 s.
func TestMixerLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lab := newCutLab(t)
		var b bus
		var parties []*party
		var ips []string
		pick := func(c *Config) {
			c.ChooseMixer = func(parts []identity.PeerID) identity.PeerID { return parts[2] }
		}
		for i := byte(1); i <= 5; i++ {
			nw, ip := lab.host(t)
			parties = append(parties, b.newParty(t, i, nw, pick))
			ips = append(ips, ip)
		}
		lab.start(t)
		id := runGroup(t, parties)
		mixer := parties[2]
		rest := []*party{parties[0], parties[1], parties[3], parties[4]}
		checkHearsOthers(t, parties)

		marks := map[*party]int{}
		for _, p := range rest {
			marks[p] = len(p.out.snapshot())
		}
		crash(&b, lab, ips[2], mixer.id, rest)

		for _, p := range rest {
			p.ev.wait(t, "mixer_moved", func(ev any) bool {
				s, ok := ev.(StateChanged)
				return ok && s.Call == id && s.Reason == ReasonMixerMoved && s.State == StateActive
			})
		}
		for _, p := range rest {
			p.ev.wait(t, "legs to the new mixer", func(any) bool {
				want := 1
				if p == parties[0] {
					want = 3
				}
				return p.legCount(id) == want
			})
			c := p.m.Active()
			if len(c) != 1 || c[0].Call != id || c[0].Mixer != parties[0].id {
				t.Fatalf("party %d after the loss: %+v", p.id[0], c)
			}
		}
		checkHearsOthers(t, rest)
		for _, p := range rest {
			for _, q := range rest {
				if p == q {
					continue
				}
				gap := gapAround(p, q, marks[p])
				t.Logf("party %d: gap in party %d's tone %.0f ms", p.id[0], q.id[0], gap)
				if gap >= 2000 {
					t.Errorf("party %d did not hear party %d for %.0f ms", p.id[0], q.id[0], gap)
				}
			}
		}
	})
}

// turnOn runs a TURN server on a virtual host, accepting user u, password p.
func turnOn(t *testing.T, nw transport.Net, ip string) *turn.Server {
	t.Helper()
	pc, err := nw.ListenPacket("udp4", ip+":3478")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: "parley",
		AuthHandler: func(user, realm string, _ net.Addr) ([]byte, bool) {
			return turn.GenerateAuthKey(user, realm, "p"), user == "u"
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            pc,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP(ip), Address: ip, Net: nw},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// TestRelayLost: alice and bob cannot reach each other directly, so their
// call runs through relay r1, the better ranked of two. r1 crashes. alice
// (who asked for the credentials) asks r2, leaving r1 out, and restarts the
// leg through it; both sides say relay_moved, the audio carries on through r2, and the gap is under 2 s.
func TestRelayLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lab := newCutLab(t)
		var b bus
		var r1, r2 identity.PeerID
		r1[0], r1[15] = 9, 9
		r2[0], r2[15] = 8, 8
		relayed := func(c *Config) {
			c.NeedsRelay = func(identity.PeerID) bool { return true }
			c.RelayCandidates = func(identity.PeerID) []identity.PeerID { return []identity.PeerID{r1, r2} }
		}
		aliceNet, aliceIP := lab.host(t)
		bobNet, bobIP := lab.host(t)
		alice := b.newParty(t, 1, aliceNet, relayed)
		bob := b.newParty(t, 2, bobNet, relayed)
		lab.keepApart(aliceIP, bobIP)
		relayParty := func(seed byte) (string, transport.Net) {
			nw, ip := lab.host(t)
			b.newParty(t, seed, nw, func(c *Config) {
				c.IssueRelay = func(ID, identity.PeerID, identity.PeerID) (*Relay, error) {
					return &Relay{URLs: []string{fmt.Sprintf("turn:%s:3478?transport=udp", ip)}, Username: "u", Password: "p"}, nil
				}
			})
			return ip, nw
		}
		r1IP, r1Net := relayParty(9)
		r2IP, r2Net := relayParty(8)
		lab.start(t)
		srv1 := turnOn(t, r1Net, r1IP)
		turnOn(t, r2Net, r2IP)

		if _, err := alice.m.Call(bob.id); err != nil {
			t.Fatal(err)
		}
		answerIncoming(t, bob)
		for _, p := range []*party{alice, bob} {
			p.ev.wait(t, "audio via r1", func(ev any) bool {
				s, ok := ev.(Stats)
				return ok && s.FramesPlayed > 50 && s.Relay == r1
			})
		}
		marks := map[*party]int{alice: len(alice.out.snapshot()), bob: len(bob.out.snapshot())}
		srv1.Close()
		crash(&b, lab, r1IP, r1, []*party{alice, bob})

		for _, p := range []*party{alice, bob} {
			p.ev.wait(t, "relay_moved", func(ev any) bool {
				s, ok := ev.(StateChanged)
				return ok && s.Reason == ReasonRelayMoved && s.State == StateActive
			})
			st := p.ev.wait(t, "audio via r2", func(ev any) bool {
				s, ok := ev.(Stats)
				return ok && s.Relay == r2 && s.FramesPlayed > 100
			}).(Stats)
			t.Logf("party %d: path %s via %s", p.id[0], st.Path, st.Relay.Short())
		}
		// A second of audio after the move, then the gap around it.
		for _, p := range []*party{alice, bob} {
			waitFrames(t, p, len(p.out.snapshot())+50)
		}
		for _, pq := range [][2]*party{{alice, bob}, {bob, alice}} {
			gap := gapAround(pq[0], pq[1], marks[pq[0]])
			t.Logf("party %d: gap in party %d's tone %.0f ms", pq[0].id[0], pq[1].id[0], gap)
			if gap >= 2000 {
				t.Errorf("party %d did not hear party %d for %.0f ms", pq[0].id[0], pq[1].id[0], gap)
			}
		}
		if got := alice.m.Active(); len(got) != 1 || got[0].State != StateActive {
			t.Fatalf("alice's calls after the move: %+v", got)
		}
	})
}

// TestMixerSuccessorGone: the first successor (party 1, the lowest ID) left
// before the mixer crashed, and the other members never heard (only the mixer
// did). They wait mixerStep for it, then party 2 takes over; party 1, invited
// by party 2 for a call it has left, answers with a hang-up instead of ringing.
func TestMixerSuccessorGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lab := newCutLab(t)
		var b bus
		var parties []*party
		var ips []string
		pick := func(c *Config) {
			c.ChooseMixer = func(parts []identity.PeerID) identity.PeerID { return parts[3] }
		}
		for i := byte(1); i <= 5; i++ {
			nw, ip := lab.host(t)
			parties = append(parties, b.newParty(t, i, nw, pick))
			ips = append(ips, ip)
		}
		lab.start(t)
		// Party 5 calls, so that party 1, the lowest ID, is a member; party 3 mixes.
		id := runGroup(t, []*party{parties[4], parties[0], parties[1], parties[2], parties[3]})
		mixer := parties[2]
		if got := mixer.m.Active(); len(got) != 1 || got[0].Mixer != mixer.id {
			t.Fatalf("mixer's call: %+v", got)
		}
		// Party 1 leaves; its hang-up reaches only the mixer (lost on the way
		// to the others, as when a member's process dies and its link with the
		// mixer fails before the overlay notices).
		var mu sync.Mutex
		quiet := true
		b.mu.Lock()
		b.drop = func(from, to identity.PeerID, m *Message) bool {
			mu.Lock()
			defer mu.Unlock()
			return quiet && from == parties[0].id && to != mixer.id
		}
		b.mu.Unlock()
		if err := parties[0].m.Hangup(id); err != nil {
			t.Fatal(err)
		}
		mixer.ev.wait(t, "party 1 gone at the mixer", func(any) bool { return mixer.legCount(id) == 3 })
		rest := []*party{parties[1], parties[3], parties[4]}
		for _, p := range rest {
			if c := p.m.Active(); len(c) != 1 || !slices.Contains(c[0].Participants, parties[0].id) {
				t.Fatalf("party %d's call: %+v", p.id[0], c)
			}
		}
		mu.Lock()
		quiet = false
		mu.Unlock()
		crash(&b, lab, ips[2], mixer.id, rest)
		waitMixedBy(t, rest, id, parties[1])
		checkHearsOthers(t, rest)
		// Party 2's two legs (to 4 and 5) say party 1's hang-up reached it: a leg
		// to party 1 would still be waiting. And party 1 was rung once only.
		parties[0].ev.mu.Lock()
		rung := 0
		for _, ev := range parties[0].ev.events {
			if _, ok := ev.(Incoming); ok {
				rung++
			}
		}
		parties[0].ev.mu.Unlock()
		if rung != 1 {
			t.Fatalf("party 1 was rung %d times: once for the call, and again after it left", rung)
		}
	})
}

// TestRelayPathBlip: the only relay's path goes quiet for a few seconds while
// the relay stays in the overlay (no PeerGone). The leg goes disconnected and
// moves — with no other relay, through the same one again, not direct (which
// NeedsRelay says is not there) — and the call carries on through it.
func TestRelayPathBlip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lab := newCutLab(t)
		var b bus
		var r1 identity.PeerID
		r1[0], r1[15] = 9, 9
		relayed := func(c *Config) {
			c.NeedsRelay = func(identity.PeerID) bool { return true }
			c.RelayCandidates = func(identity.PeerID) []identity.PeerID { return []identity.PeerID{r1} }
		}
		aliceNet, aliceIP := lab.host(t)
		bobNet, bobIP := lab.host(t)
		alice := b.newParty(t, 1, aliceNet, relayed)
		bob := b.newParty(t, 2, bobNet, relayed)
		lab.keepApart(aliceIP, bobIP)
		r1Net, r1IP := lab.host(t)
		b.newParty(t, 9, r1Net, func(c *Config) {
			c.IssueRelay = func(ID, identity.PeerID, identity.PeerID) (*Relay, error) {
				return &Relay{URLs: []string{fmt.Sprintf("turn:%s:3478?transport=udp", r1IP)}, Username: "u", Password: "p"}, nil
			}
		})
		lab.start(t)
		turnOn(t, r1Net, r1IP)

		id, err := alice.m.Call(bob.id)
		if err != nil {
			t.Fatal(err)
		}
		answerIncoming(t, bob)
		for _, p := range []*party{alice, bob} {
			p.ev.wait(t, "audio via r1", func(ev any) bool {
				s, ok := ev.(Stats)
				return ok && s.FramesPlayed > 50 && s.Relay == r1
			})
		}
		lab.kill(r1IP) // the relay's media path only: its signalling still flows
		alice.ev.wait(t, "relay_moved", func(ev any) bool {
			s, ok := ev.(StateChanged)
			return ok && s.Reason == ReasonRelayMoved
		})
		lab.mu.Lock()
		delete(lab.dead, r1IP)
		lab.mu.Unlock()
		mark := len(bob.out.snapshot())
		frames := waitFrames(t, bob, mark+150)[mark:]
		if lvl := toneLevel(flatten(frames[100:]), alice.src.hz); lvl < 0.5 {
			t.Fatalf("bob hears alice at %.2f after the blip", lvl)
		}
		if got := alice.m.Active(); len(got) != 1 || got[0].Call != id || got[0].State != StateActive {
			t.Fatalf("alice's calls after the blip: %+v", got)
		}
		alice.m.mu.Lock()
		c := alice.m.calls[id]
		alice.m.mu.Unlock()
		l := c.leg(bob.id)
		if r := l.relayOf(); r == nil || r.Peer != r1 {
			t.Fatalf("alice's leg after the blip is relayed by %+v, want r1 again", r)
		}
	})
}

// TestMixerConflictYields: the first successor (party 1) notices the mixer's
// loss late — after party 2, the next in turn, already took over — and takes
// over too: two mixers at once (call_mixer_conflict). Party 2, later in the
// successor order every participant computes, yields: it stops mixing and
// answers party 1's invite, and the members following party 2 switch to
// party 1 when its invite comes. The call converges on one mixer, party 1,
// and everyone hears everyone.
func TestMixerConflictYields(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lab := newCutLab(t)
		var b bus
		var parties []*party
		var ips []string
		var cmu sync.Mutex
		counts := map[string]int{}
		pick := func(c *Config) {
			c.ChooseMixer = func(parts []identity.PeerID) identity.PeerID { return parts[2] }
			c.Count = func(name string) { cmu.Lock(); counts[name]++; cmu.Unlock() }
		}
		for i := byte(1); i <= 5; i++ {
			nw, ip := lab.host(t)
			parties = append(parties, b.newParty(t, i, nw, pick))
			ips = append(ips, ip)
		}
		lab.start(t)
		id := runGroup(t, parties)
		mixer := parties[2]
		rest := []*party{parties[0], parties[1], parties[3], parties[4]}
		checkHearsOthers(t, parties)

		// The mixer crashes. Parties 2, 4 and 5 notice at once; party 1 only
		// after party 2 took over, and party 2's invite does not reach it
		// before (the path between them is as slow as party 1's noticing).
		var mu sync.Mutex
		slow := true
		lab.kill(ips[2])
		b.mu.Lock()
		b.drop = func(from, to identity.PeerID, m *Message) bool {
			mu.Lock()
			defer mu.Unlock()
			return from == mixer.id || to == mixer.id || (slow && from == parties[1].id && to == parties[0].id)
		}
		b.mu.Unlock()
		for _, p := range rest[1:] {
			p.m.PeerGone(mixer.id)
		}
		for _, p := range []*party{parties[3], parties[4]} {
			p.ev.wait(t, "party 2 mixes", func(any) bool {
				c := p.m.Active()
				return p.legCount(id) == 1 && len(c) == 1 && c[0].Mixer == parties[1].id
			})
		}
		mu.Lock()
		slow = false
		mu.Unlock()
		parties[0].m.PeerGone(mixer.id)

		waitMixedBy(t, rest, id, parties[0])
		checkHearsOthers(t, rest)
		for _, p := range rest {
			if c := p.m.Active(); len(c) != 1 || c[0].Call != id || len(c[0].Participants) != 5 {
				t.Fatalf("party %d's call after the conflict: %+v", p.id[0], c)
			}
		}
		cmu.Lock()
		defer cmu.Unlock()
		if counts["call_mixer_took_over"] != 2 || counts["call_mixer_yielded"] != 1 {
			t.Fatalf("counters: %v (want two take-overs and one yield)", counts)
		}
	})
}

// TestMixerDeferredKeepsEarliest: a member that has not yet noticed its
// mixer's loss keeps one mixer_moved invite for when it does — the earliest
// successor's, whatever order the invites came in, since a later successor
// yields to it (TestMixerConflictYields).
func TestMixerDeferredKeepsEarliest(t *testing.T) {
	var ids [6]identity.PeerID
	for i := range ids {
		ids[i][0], ids[i][15] = byte(i), byte(i)
	}
	for _, order := range [][2]int{{1, 2}, {2, 1}} {
		m := &Manager{ctx: t.Context(), cfg: Config{Self: ids[4], Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Emit: func(Event) {}, Now: time.Now}}
		c := newCall(m, ID{1}, ids[5], false)
		c.participants = []identity.PeerID{ids[5], ids[1], ids[2], ids[3], ids[4]}
		c.mixer, c.answeredAt = ids[3], time.Unix(1, 0)
		for _, from := range order {
			if m.followMixer(c, ids[from], &Message{Kind: KindInvite, Call: c.id, Reason: ReasonMixerMoved}) {
				t.Fatalf("followed party %d before noticing the mixer's loss", from)
			}
		}
		if c.deferredFrom != ids[1] {
			t.Fatalf("invites from %v: kept party %d's, want party 1's", order, c.deferredFrom[0])
		}
	}
}

// TestMixerLostFollowsRank: the caller ranks the participants for mixing
// (Config.RankMixers: party 3, then 5, 4, 1, 2) and the ranking travels in its
// invite; when party 3 is lost, party 5 takes over — not party 1, the lowest
// ID, which the ranking puts last but one (a phone on battery, say).
func TestMixerLostFollowsRank(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lab := newCutLab(t)
		var b bus
		var parties []*party
		var ips []string
		rank := func(c *Config) {
			c.RankMixers = func(parts []identity.PeerID) []identity.PeerID {
				byID := map[byte]identity.PeerID{}
				for _, p := range parts {
					byID[p[0]] = p
				}
				return []identity.PeerID{byID[3], byID[5], byID[4], byID[1], byID[2]}
			}
		}
		for i := byte(1); i <= 5; i++ {
			nw, ip := lab.host(t)
			parties = append(parties, b.newParty(t, i, nw, rank))
			ips = append(ips, ip)
		}
		lab.start(t)
		id := runGroup(t, parties)
		mixer := parties[2]
		if got := parties[0].m.Active(); len(got) != 1 || got[0].Mixer != mixer.id {
			t.Fatalf("party 1's call: %+v (want party 3 mixing, first in the ranking)", got)
		}
		rest := []*party{parties[0], parties[1], parties[3], parties[4]}
		crash(&b, lab, ips[2], mixer.id, rest)
		waitMixedBy(t, rest, id, parties[4])
		checkHearsOthers(t, rest)
	})
}

func TestValidRank(t *testing.T) {
	parts := []identity.PeerID{{1}, {2}, {3}}
	for _, tc := range []struct {
		rank []identity.PeerID
		ok   bool
	}{
		{[]identity.PeerID{{3}, {1}}, true},
		{[]identity.PeerID{{3}, {1}, {2}}, true},
		{[]identity.PeerID{{3}, {3}}, false}, // twice
		{[]identity.PeerID{{4}}, false},      // not a participant
		{nil, false},
	} {
		if got := validRank(tc.rank, parts); (got != nil) != tc.ok {
			t.Errorf("validRank(%v) = %v, want ok %v", tc.rank, got, tc.ok)
		}
	}
}

// waitMixedBy waits until every party of rest is in call id mixed by mixer:
// one leg each, to mixer, and the mixer's legs to all the others.
func waitMixedBy(t *testing.T, rest []*party, id ID, mixer *party) {
	t.Helper()
	for _, p := range rest {
		p.ev.wait(t, fmt.Sprintf("legs to party %d", mixer.id[0]), func(any) bool {
			want := 1
			if p == mixer {
				want = len(rest) - 1
			}
			c := p.m.Active()
			return p.legCount(id) == want && len(c) == 1 && c[0].Mixer == mixer.id
		})
	}
}
