package call

import (
	"runtime"
	"testing"
)

// setProcs sets GOMAXPROCS for one test and clears a GOMAXPROCS variable
// (which holdOneProc obeys), restoring both after.
func setProcs(t *testing.T, n int) {
	t.Setenv("GOMAXPROCS", "")
	prev := runtime.GOMAXPROCS(n)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
}

func TestHoldOneProcNestsAndRestores(t *testing.T) {
	setProcs(t, 3)
	r1 := holdOneProc()
	r2 := holdOneProc()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("held twice: GOMAXPROCS %d, want 1", n)
	}
	r1()
	r1() // a second release of the same hold must not end the other's
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("one hold left: GOMAXPROCS %d, want 1", n)
	}
	r2()
	if n := runtime.GOMAXPROCS(0); n != 3 {
		t.Fatalf("released: GOMAXPROCS %d, want the 3 from before", n)
	}
}

// A node bridging more calls than oneProcMaxCalls (phones, guests) gets every
// P back while it does, and one again when it is down to oneProcMaxCalls.
func TestHoldOneProcLetsGoForManyCalls(t *testing.T) {
	setProcs(t, 3)
	var releases []func()
	for range oneProcMaxCalls {
		releases = append(releases, holdOneProc())
	}
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("%d calls: GOMAXPROCS %d, want 1", oneProcMaxCalls, n)
	}
	extra := holdOneProc()
	if n := runtime.GOMAXPROCS(0); n != 3 {
		t.Fatalf("%d calls: GOMAXPROCS %d, want the 3 from before", oneProcMaxCalls+1, n)
	}
	extra()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("back to %d calls: GOMAXPROCS %d, want 1", oneProcMaxCalls, n)
	}
	for _, r := range releases {
		r()
	}
	if n := runtime.GOMAXPROCS(0); n != 3 {
		t.Fatalf("released: GOMAXPROCS %d, want 3", n)
	}
}

func TestHoldOneProcLeavesUsersChoice(t *testing.T) {
	setProcs(t, 3)
	t.Setenv("GOMAXPROCS", "3")
	release := holdOneProc()
	defer release()
	if n := runtime.GOMAXPROCS(0); n != 3 {
		t.Fatalf("GOMAXPROCS set by the user, yet changed to %d", n)
	}
}

// A call with OneProcInCalls runs on one P from its audio's start to its end.
func TestOneProcHeldForTheCall(t *testing.T) {
	setProcs(t, 2)
	lab := newVnetLab(t, 0, 0, nil)
	var b bus
	alice := b.newParty(t, 1, lab.net(t), func(c *Config) { c.OneProcInCalls = true })
	bob := b.newParty(t, 2, lab.net(t), nil)
	lab.start(t)
	id, err := alice.m.Call(bob.id)
	if err != nil {
		t.Fatal(err)
	}
	answerIncoming(t, bob)
	alice.ev.waitState(t, StateActive)
	waitFrames(t, bob, 25) // the call carries audio on one P
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("in the call: GOMAXPROCS %d, want 1", n)
	}
	if err := alice.m.Hangup(id); err != nil {
		t.Fatal(err)
	}
	alice.ev.waitState(t, StateEnded)
	if n := runtime.GOMAXPROCS(0); n != 2 {
		t.Fatalf("after the call: GOMAXPROCS %d, want 2 again", n)
	}
}
