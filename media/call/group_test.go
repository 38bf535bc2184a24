package call

import (
	"testing"
	"testing/synctest"

	"parley/identity"
	"parley/media/audio"
	"parley/media/signal"
)

// runGroup places a call from the first party to the others, has everyone
// answer, and waits until every party plays sound from the call.
func runGroup(t *testing.T, parties []*party) ID {
	t.Helper()
	var others []identity.PeerID
	for _, p := range parties[1:] {
		others = append(others, p.id)
	}
	id, err := parties[0].m.Call(others...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parties[1:] {
		in := p.ev.wait(t, "incoming", func(ev any) bool { _, ok := ev.(Incoming); return ok }).(Incoming)
		if in.Call != id || len(in.Participants) != len(parties) || in.Participants[0] != parties[0].id {
			t.Fatalf("incoming: %+v", in)
		}
		if err := p.m.Answer(id); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range parties {
		p.ev.waitState(t, StateActive)
	}
	return id
}

// heard is the two seconds p plays once every one of its legs has carried audio
// for a second: under a loaded scheduler (the race detector, CI) one leg of a mesh
// can connect seconds after the others, and a window that starts before it would
// measure a fraction of its level.
func heard(t *testing.T, p *party, call ID) [][]int16 {
	t.Helper()
	legs := p.legCount(call)
	playing := map[identity.PeerID]bool{}
	p.ev.wait(t, "every leg playing", func(ev any) bool {
		if s, ok := ev.(Stats); ok && s.Call == call && s.FramesPlayed >= 50 {
			playing[s.Peer] = true
		}
		return len(playing) >= legs
	})
	from := len(p.out.snapshot())
	frames := waitFrames(t, p, from+hearFrames)
	return frames[from : from+hearFrames]
}

// hearFrames is how much of a call heard judges: ten windows of 200 ms.
const hearFrames, windowFrames = 100, 10

// toneLevel is the amplitude of hz in x as a fraction of the tone source's
// amplitude (8000).
func toneLevel(x []int16, hz float64) float64 {
	return signal.ToneLevel(x, hz, audio.SampleRate) * 32768 / 8000
}

func checkHearsOthers(t *testing.T, parties []*party) {
	t.Helper()
	// Each other party's tone must be there at half its level or more in most of
	// the windows (the median: one window hit by a scheduler stall, concealed by
	// Opus at a lower level, does not decide); a party's own tone must be absent.
	for _, p := range parties {
		frames := heard(t, p, p.m.Active()[0].Call)
		for _, q := range parties {
			if q == p {
				// A party must not hear itself (no echo through a mixer), judged over
				// the whole two seconds: a 200 ms window that takes in a concealed
				// frame's broadband noise can read above 0.1 with no echo at all.
				if lvl := toneLevel(flatten(frames), q.src.hz); lvl > 0.1 {
					t.Errorf("party %d hears its own %.0f Hz tone at %.2f", p.id[0], q.src.hz, lvl)
				}
				continue
			}
			const scale = 32768.0 / 8000 // toneLevel's: a fraction of the source's amplitude
			if med := scale * signal.MedianToneLevel(flatten(frames), q.src.hz, audio.SampleRate, windowFrames*audio.FrameSamples); med < 0.5 {
				t.Errorf("party %d hears party %d's %.0f Hz tone at only %.2f (median of 200 ms windows)", p.id[0], q.id[0], q.src.hz, med)
			}
		}
	}
}

func TestFourPartyMesh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lab := newVnetLab(t, 0, 0, nil)
		var b bus
		var parties []*party
		for i := byte(1); i <= 4; i++ {
			parties = append(parties, b.newParty(t, i, lab.net(t), nil))
		}
		lab.start(t)
		runGroup(t, parties)
		// Full mesh: everyone has a leg to each of the three others.
		for _, p := range parties {
			for _, c := range p.m.Active() {
				if !c.Mixer.IsZero() {
					t.Fatalf("a 4-party call got a mixer")
				}
				if n := p.legCount(c.Call); n != 3 {
					t.Fatalf("party %d has %d legs, want 3", p.id[0], n)
				}
			}
		}
		checkHearsOthers(t, parties)

		// One leaves; the other three carry on.
		c := parties[3].m.Active()[0].Call
		if err := parties[3].m.Hangup(c); err != nil {
			t.Fatal(err)
		}
		for _, p := range parties[:3] {
			p.ev.wait(t, "leg gone", func(any) bool { return p.legCount(c) == 2 })
			if st := p.m.Active(); len(st) != 1 || st[0].State != StateActive {
				t.Fatalf("party %d after one left: %+v", p.id[0], st)
			}
		}
	})
}

func TestFivePartyCallIsMixed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lab := newVnetLab(t, 0, 0, nil)
		var b bus
		var parties []*party
		mixer := identity.PeerID{}
		pick := func(c *Config) {
			c.ChooseMixer = func(parts []identity.PeerID) identity.PeerID { return parts[2] }
		}
		for i := byte(1); i <= 5; i++ {
			parties = append(parties, b.newParty(t, i, lab.net(t), pick))
		}
		mixer = parties[2].id
		lab.start(t)
		runGroup(t, parties)
		for _, p := range parties {
			c := p.m.Active()[0]
			if c.Mixer != mixer {
				t.Fatalf("party %d: mixer %s, want %s", p.id[0], c.Mixer.Short(), mixer.Short())
			}
			want := 1
			if p.id == mixer {
				want = 4
			}
			if n := p.legCount(c.Call); n != want {
				t.Fatalf("party %d has %d legs, want %d", p.id[0], n, want)
			}
		}
		checkHearsOthers(t, parties)
	})
}
