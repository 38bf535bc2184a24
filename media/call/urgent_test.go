package call

import (
	"testing"

	"parley/identity"
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

// A relay ask for an urgent call is answered by IssueUrgentRelay (credentials
// that may exceed the relay's session cap); an ordinary one by IssueRelay.
func TestUrgentRelayAsk(t *testing.T) {
	self, alice, bob := pid(9), pid(1), pid(2)
	r := newRelayNode(t, self)
	urgentIssued := 0
	r.m.cfg.IssueUrgentRelay = func(call ID, asker, peer identity.PeerID) (*Relay, error) {
		urgentIssued++
		return &Relay{URLs: []string{"turn:192.0.2.1:48557?transport=udp"}, Username: "u", Password: "p"}, nil
	}
	r.m.Handle(alice, &Message{Kind: KindRelayAsk, Call: NewID(), Participants: []identity.PeerID{alice, bob}})
	if urgentIssued != 0 || r.grants() != 1 {
		t.Fatalf("ordinary ask: %d urgent, %d ordinary grants", urgentIssued, r.grants())
	}
	r.m.Handle(bob, &Message{Kind: KindRelayAsk, Call: NewID(), Participants: []identity.PeerID{bob, alice}, Urgent: true})
	if urgentIssued != 1 || r.grants() != 1 {
		t.Fatalf("urgent ask: %d urgent, %d ordinary grants", urgentIssued, r.grants())
	}
}

// TestUrgentCallFromACall: a caller in a call places an urgent call: its call
// ends and the urgent one rings (an ordinary one is refused, TestBusy).
func TestUrgentCallFromACall(t *testing.T) {
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
	urgent, err := bob.m.CallUrgent(carol.id)
	if err != nil {
		t.Fatalf("urgent call from a call: %v", err)
	}
	alice.ev.wait(t, "first call ended", func(ev any) bool {
		e, ok := ev.(StateChanged)
		return ok && e.Call == first && e.State == StateEnded
	})
	if in := carol.ev.wait(t, "urgent incoming", func(ev any) bool { _, ok := ev.(Incoming); return ok }).(Incoming); in.Call != urgent || !in.Urgent {
		t.Fatalf("carol: %+v", in)
	}
}
