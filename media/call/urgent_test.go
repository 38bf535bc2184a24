package call

import (
	"testing"
)

// TestUrgentCallRingsBusyCallee: an urgent call to a peer already in a call
// rings (an ordinary one is answered busy, TestBusy), and answered, it takes
// the line: the callee's other call ends.
func TestUrgentCallRingsBusyCallee(t *testing.T) {
	lab := newVnetLab(t, 0, 0, nil)
	var b bus
	alice := b.newParty(t, 1, lab.net(t), nil)
	bob := b.newParty(t, 2, lab.net(t), nil)
	carol := b.newParty(t, 3, lab.net(t), nil)
	lab.start(t)
	first, err := alice.m.Call(bob.id)
	if err != nil {
		t.Fatal(err)
	}
	answerIncoming(t, bob)
	bob.ev.waitState(t, StateActive)

	urgent, err := carol.m.CallUrgent(bob.id)
	if err != nil {
		t.Fatal(err)
	}
	in := bob.ev.wait(t, "urgent incoming", func(ev any) bool {
		e, ok := ev.(Incoming)
		return ok && e.Call == urgent
	}).(Incoming)
	if !in.Urgent || in.From != carol.id {
		t.Fatalf("incoming %+v", in)
	}
	carol.ev.waitState(t, StateRinging)
	if err := bob.m.Answer(urgent); err != nil {
		t.Fatal(err)
	}
	alice.ev.wait(t, "first call ended", func(ev any) bool {
		e, ok := ev.(StateChanged)
		return ok && e.Call == first && e.State == StateEnded
	})
	carol.ev.waitState(t, StateActive)
	if got := bob.m.Active(); len(got) != 1 || got[0].Call != urgent {
		t.Fatalf("bob's calls: %+v", got)
	}
}

func TestUrgentFlagRoundTrip(t *testing.T) {
	b, err := (&Message{Kind: KindInvite, Call: NewID(), Urgent: true}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil || !m.Urgent {
		t.Fatalf("decoded %+v, %v", m, err)
	}
	if m, _ := Decode(b[:headerLen]); m.Urgent {
		t.Fatal("no tag decoded as urgent")
	}
	b[len(b)-1] = 2
	if _, err := Decode(b); err == nil {
		t.Fatal("urgent flag 2 accepted")
	}
}
