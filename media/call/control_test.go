package call

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func endedWith(t *testing.T, p *party, reason string) {
	t.Helper()
	if e := p.ev.waitState(t, StateEnded); e.Reason != reason {
		t.Fatalf("call ended with %q, want %q", e.Reason, reason)
	}
}

func TestDecline(t *testing.T) {
	alice, bob := twoParties(t)
	if _, err := alice.m.Call(bob.id); err != nil {
		t.Fatal(err)
	}
	in := bob.ev.wait(t, "incoming", func(ev any) bool { _, ok := ev.(Incoming); return ok }).(Incoming)
	if err := bob.m.Decline(in.Call); err != nil {
		t.Fatal(err)
	}
	endedWith(t, alice, ReasonDeclined)
	endedWith(t, bob, ReasonDeclined)
	if err := bob.m.Answer(in.Call); !errors.Is(err, ErrNoCall) {
		t.Fatalf("answering a declined call: %v", err)
	}
}

func TestBusy(t *testing.T) {
	lab := newVnetLab(t, 0, 0, nil)
	var b bus
	alice := b.newParty(t, 1, lab.net(t), nil)
	bob := b.newParty(t, 2, lab.net(t), nil)
	carol := b.newParty(t, 3, lab.net(t), nil)
	lab.start(t)
	if _, err := alice.m.Call(bob.id); err != nil {
		t.Fatal(err)
	}
	answerIncoming(t, bob)
	bob.ev.waitState(t, StateActive)

	if _, err := carol.m.Call(bob.id); err != nil {
		t.Fatal(err)
	}
	endedWith(t, carol, ReasonBusy)
	// Bob's own side refuses a second call too.
	if _, err := bob.m.Call(carol.id); !errors.Is(err, ErrBusy) {
		t.Fatalf("a second outgoing call during a call: %v", err)
	}
	// The first call is unharmed.
	if got := bob.m.Active(); len(got) != 1 || got[0].Peer != alice.id || got[0].State != StateActive {
		t.Fatalf("bob's calls after the busy signal: %+v", got)
	}
}

func TestRingTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lab := newVnetLab(t, 0, 0, nil)
		var b bus
		short := func(c *Config) { c.RingTimeout = 300 * time.Millisecond }
		alice := b.newParty(t, 1, lab.net(t), short)
		bob := b.newParty(t, 2, lab.net(t), func(c *Config) { c.RingTimeout = time.Hour })
		lab.start(t)
		if _, err := alice.m.Call(bob.id); err != nil {
			t.Fatal(err)
		}
		bob.ev.waitState(t, StateIncoming)
		endedWith(t, alice, ReasonTimeout)
		// The caller told the callee, whose own (long) timer has not fired.
		endedWith(t, bob, ReasonTimeout)
	})
}

func TestPeerVanishesMidCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		alice, bob := twoParties(t)
		if _, err := alice.m.Call(bob.id); err != nil {
			t.Fatal(err)
		}
		answerIncoming(t, bob)
		alice.ev.waitState(t, StateActive)
		// The overlay reports bob gone: alice's side ends at once, without waiting
		// for ICE to notice.
		alice.m.PeerGone(bob.id)
		endedWith(t, alice, ReasonPeerLost)
		// Bob never heard a hang-up; his ICE times out (8 s) and ends the call.
		endedWith(t, bob, ReasonPeerLost)
	})
}

func TestCancelBeforeAnswer(t *testing.T) {
	alice, bob := twoParties(t)
	id, err := alice.m.Call(bob.id)
	if err != nil {
		t.Fatal(err)
	}
	bob.ev.waitState(t, StateIncoming)
	if err := alice.m.Hangup(id); err != nil {
		t.Fatal(err)
	}
	endedWith(t, alice, ReasonHangup)
	endedWith(t, bob, ReasonCancelled)
}

// TestMuteSilencesTheFarEnd: while alice is muted bob hears silence and both ends'
// stats say so; unmuted, the tone comes back.
func TestMuteSilencesTheFarEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		alice, bob := twoParties(t)
		id, err := alice.m.Call(bob.id)
		if err != nil {
			t.Fatal(err)
		}
		answerIncoming(t, bob)
		alice.ev.waitState(t, StateActive)
		bob.ev.waitState(t, StateActive)
		if audible(waitFrames(t, bob, 100)) == nil {
			t.Fatal("bob heard nothing before the mute")
		}

		// loudest is the loudest of the frames bob plays in the window [from+skip, from+skip+n):
		// skip covers what was already in flight and in the jitter buffer.
		loudest := func(from, skip, n int) float64 {
			frames := waitFrames(t, bob, from+skip+n)
			var top float64
			for _, f := range frames[from+skip : from+skip+n] {
				top = max(top, rms(f))
			}
			return top
		}
		if err := alice.m.Mute(id, true); err != nil {
			t.Fatal(err)
		}
		alice.ev.wait(t, "alice's stats say muted", func(ev any) bool { s, ok := ev.(Stats); return ok && s.Muted })
		if top := loudest(len(bob.out.snapshot()), 25, 50); top > 50 {
			t.Fatalf("muted, bob still hears a frame of RMS %.0f", top)
		}
		if err := alice.m.Mute(id, false); err != nil {
			t.Fatal(err)
		}
		if top := loudest(len(bob.out.snapshot()), 25, 50); top < 500 {
			t.Fatalf("unmuted, the loudest frame bob hears has RMS %.0f", top)
		}
		if err := alice.m.Mute(ID{0xff}, true); err == nil {
			t.Fatal("muting an unknown call succeeded")
		}
	})
}
