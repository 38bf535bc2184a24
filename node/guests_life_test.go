package node

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"parley/identity"
	"parley/internal/team"
)

func stoppedNode(n *Node) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopped
}

// In a closed team a guest needs the team's passphrase; with it, the guest's
// node is in the team (peers link to it).
func TestGuestTeamPassphrase(t *testing.T) {
	inv, err := team.NewInvitation("correct horse battery staple orbit")
	if err != nil {
		t.Fatal(err)
	}
	host := startTestNode(t, "host", Config{Guests: "open", Team: inv.String()})
	bob := startTestNode(t, "bob", Config{Team: inv.String()})
	linkNodes(t, bob, host)
	ctx := context.Background()
	for _, pass := range []string{"", "correct horse battery stapl", "correct horse battery staple orbit!", "CORRECT HORSE BATTERY STAPLE ORBIT"} {
		if _, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(7), Name: "Ann", Passphrase: pass}); !errors.Is(err, ErrGuestPassphrase) {
			t.Errorf("passphrase %q: %v", pass, err)
		}
	}
	if len(host.Guests()) != 0 {
		t.Fatalf("a wrong passphrase left a guest: %+v", host.Guests())
	}
	g, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(7), Name: "Ann", Passphrase: " correct horse battery staple orbit "})
	if err != nil {
		t.Fatal(err)
	}
	if g.Node().teamKey != host.teamKey {
		t.Error("the guest's node derived its own team key instead of the host's")
	}
	eventually(t, "bob links the guest inside the team", func() bool {
		p, ok := rosterEntry(bob, g.ID())
		return ok && p.Online && p.Direct && p.Guest
	})
	// Remembered: the next visit needs no passphrase.
	g.Detach()
	if err := host.RemoveGuest(g.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(7), Name: "Ann"}); !errors.Is(err, ErrGuestPassphrase) {
		t.Errorf("after removal a guest came back without the passphrase: %v", err)
	}
}

// A node whose record claims to be someone's guest, while that someone does
// not list it, shows as no guest; nor does a guest's claim survive its host
// dropping it from its record.
func TestGuestBadgeNeedsBothRecords(t *testing.T) {
	host := startTestNode(t, "host", Config{Guests: "open"})
	bob := startTestNode(t, "bob", Config{})
	linkNodes(t, bob, host)
	fakeID, err := identity.FromSeed(guestSeed(8))
	if err != nil {
		t.Fatal(err)
	}
	// Mallory's own node says "via host", but host never admitted it.
	mallory := startTestNode(t, "mallory", Config{guest: &guestConfig{identity: fakeID, via: host.ID()}})
	linkNodes(t, mallory, bob)
	real, err := host.HostGuest(context.Background(), GuestJoin{Seed: guestSeed(9), Name: "Gina"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob sees the real guest as a guest", func() bool {
		p, _ := rosterEntry(bob, real.ID())
		return p.Online && p.Guest
	})
	eventually(t, "bob and the host have mallory's record", func() bool {
		p, _ := rosterEntry(bob, fakeID.ID.String())
		q, _ := rosterEntry(host, fakeID.ID.String())
		return p.Online && q.Online
	})
	for who, n := range map[string]*Node{"bob": bob, "host": host} {
		if p, _ := rosterEntry(n, fakeID.ID.String()); p.Guest || p.Via != "" {
			t.Errorf("%s shows mallory as a guest: %+v", who, p)
		}
	}
	if rec := bob.ov.RecordOf(fakeID.ID); rec == nil || extValue(rec, recordExtVia) == nil {
		t.Fatal("mallory's record carries no via claim: the check above proves nothing")
	}

	// Once the host lists it, the badge appears, and bob's skin hears of it
	// (a roster event) without reading the roster again; and it goes when the
	// host drops it.
	badge := func(want bool) {
		t.Helper()
		e := waitEvent(t, bob, func(e PresenceChanged) bool { return e.Peer.ID == fakeID.ID.String() })
		if e.Peer.Guest != want || (e.Peer.Via == host.ID().String()) != want {
			t.Errorf("presence event with guest %v via %q, want guest %v", e.Peer.Guest, e.Peer.Via, want)
		}
	}
	ready := make(chan struct{})
	close(ready)
	host.guests.mu.Lock()
	host.guests.hosted[fakeID.ID] = &hostedGuest{id: fakeID.ID, name: "mallory", ready: ready}
	host.guests.mu.Unlock()
	host.republishGuests()
	badge(true)
	host.guests.mu.Lock()
	delete(host.guests.hosted, fakeID.ID)
	host.guests.mu.Unlock()
	host.republishGuests()
	badge(false)
}

// A detached guest keeps its node through the grace (a reload finds it), then
// says goodbye; it comes back to its history on this host.
func TestGuestDetachAndGrace(t *testing.T) {
	host := startTestNode(t, "host", Config{Guests: "open"})
	host.guests.grace = 300 * time.Millisecond
	bob := startTestNode(t, "bob", Config{})
	linkNodes(t, bob, host)
	ctx := context.Background()
	join := GuestJoin{Seed: guestSeed(10), Name: "Gina"}
	g1, err := host.HostGuest(ctx, join)
	if err != nil {
		t.Fatal(err)
	}
	child := g1.Node()
	eventually(t, "bob sees the guest", func() bool { p, _ := rosterEntry(bob, g1.ID()); return p.Online && p.Guest })
	id, err := bob.Send(g1.ID(), "before the reload")
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, bob, func(d MessageDelivered) bool { return d.ID == id })

	// A reload: the old page detaches, the new one joins within the grace.
	g1.Detach()
	g1.Detach() // a second Detach of one handle is a no-op
	waitEvent(t, host, func(c GuestChanged) bool { return c.Guest.ID == g1.ID() && !c.Guest.Connected })
	g2, err := host.HostGuest(ctx, join)
	if err != nil {
		t.Fatal(err)
	}
	if g2.Node() != child {
		t.Fatal("a reload within the grace got a new node")
	}
	time.Sleep(3 * host.guests.grace) // the cancelled grace must not stop it
	if stoppedNode(child) {
		t.Fatal("the grace stop was not cancelled by the reload")
	}
	if gs := host.Guests(); len(gs) != 1 || !gs[0].Connected {
		t.Fatalf("guests after the reload: %+v", gs)
	}

	// The tab closes for good: goodbye after the grace.
	g2.Detach()
	down := waitEvent(t, bob, func(d PeerDown) bool { return d.Peer.ID == g2.ID() })
	if down.Reason != "goodbye" {
		t.Errorf("bob saw the guest leave with %q, want goodbye", down.Reason)
	}
	eventually(t, "the guest's node stopped", func() bool { return stoppedNode(child) })
	if gs := host.Guests(); len(gs) != 1 || gs[0].Connected || gs[0].State != GuestAdmitted {
		t.Fatalf("guests after it left: %+v", gs)
	}
	eventually(t, "the host stops vouching", func() bool { return len(host.guests.listed()) == 0 })

	// Back later: a new node on the same store, with its history.
	g3, err := host.HostGuest(ctx, join)
	if err != nil {
		t.Fatal(err)
	}
	defer g3.Detach()
	if g3.Node() == child || g3.ID() != g2.ID() {
		t.Fatal("the returning guest got the stopped node or another ID")
	}
	page, err := g3.Node().History(bob.ID().String(), "", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 1 || page.Messages[0].Text != "before the reload" {
		t.Errorf("history of the returning guest: %+v", page.Messages)
	}
}

// An admitted guest is remembered across a host restart and not asked again;
// the host's Stop stops its guests first (peers see their goodbye); removal
// stops the guest and forgets it.
func TestGuestRememberedAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	host := startTestNode(t, "host", Config{DataDir: dir}) // ask
	bob := startTestNode(t, "bob", Config{})
	linkNodes(t, bob, host)
	join := GuestJoin{Seed: guestSeed(11), Name: "Gina"}
	gid := seedID(t, join.Seed)
	done := make(chan *Guest, 1)
	go func() {
		g, err := host.HostGuest(context.Background(), join)
		if err != nil {
			t.Error(err)
		}
		done <- g
	}()
	waitEvent(t, host, func(r GuestRequest) bool { return r.Guest == gid })
	if err := host.AdmitGuest(gid, true); err != nil {
		t.Fatal(err)
	}
	g := <-done
	if g == nil {
		t.FailNow()
	}
	child := g.Node()
	eventually(t, "bob sees the guest", func() bool { p, _ := rosterEntry(bob, gid); return p.Online && p.Guest })

	host.Stop()
	if !stoppedNode(child) {
		t.Fatal("the host stopped before its guest's node")
	}
	down := waitEvent(t, bob, func(d PeerDown) bool { return d.Peer.ID == gid })
	if down.Reason != "goodbye" {
		t.Errorf("the guest left with %q, want goodbye", down.Reason)
	}

	host = startTestNode(t, "host", Config{DataDir: dir})
	if gs := host.Guests(); len(gs) != 1 || gs[0].ID != gid || gs[0].State != GuestAdmitted || gs[0].Connected {
		t.Fatalf("remembered guests after the restart: %+v", gs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g, err := host.HostGuest(ctx, join)
	if err != nil {
		t.Fatalf("a remembered guest was not readmitted: %v", err)
	}
	for len(host.Events()) > 0 {
		if r, ok := (<-host.Events()).(GuestRequest); ok {
			t.Errorf("a remembered guest was asked about: %+v", r)
		}
	}
	child = g.Node()

	if err := host.RemoveGuest(gid); err != nil {
		t.Fatal(err)
	}
	if !stoppedNode(child) {
		t.Error("RemoveGuest left the guest's node running")
	}
	if gs := host.Guests(); len(gs) != 0 {
		t.Errorf("guests after removal: %+v", gs)
	}
	waitEvent(t, host, func(c GuestChanged) bool { return c.Guest.ID == gid && c.Guest.State == GuestGone })
	if err := host.RemoveGuest(gid); err == nil {
		t.Error("removing an unknown guest succeeded")
	}
	// Forgotten: the next join is asked about again.
	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := host.HostGuest(ctx, join); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a removed guest rejoined without asking: %v", err)
	}
}

// Starting and stopping guests leaves no goroutine behind: grace timers,
// child nodes and their services all end with the host.
func TestGuestsLeaveNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		host := startTestNode(t, "host", Config{Guests: "open"})
		host.guests.grace = 50 * time.Millisecond
		bob := startTestNode(t, "bob", Config{})
		linkNodes(t, bob, host)
		ctx := context.Background()
		gone, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(12), Name: "leaves"})
		if err != nil {
			t.Fatal(err)
		}
		child := gone.Node()
		gone.Detach()
		eventually(t, "the detached guest stopped", func() bool { return stoppedNode(child) })
		if _, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(13), Name: "stays"}); err != nil {
			t.Fatal(err)
		}
		pending, err := host.HostGuest(ctx, GuestJoin{Seed: guestSeed(14), Name: "grace"})
		if err != nil {
			t.Fatal(err)
		}
		host.guests.grace = time.Hour
		pending.Detach() // its grace timer is still set when the host stops
		bob.Stop()
		host.Stop()
	}()
	deadline := time.Now().Add(15 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), summarise(string(buf)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// summarise keeps the first frame line of each goroutine of a stack dump.
func summarise(dump string) string {
	var out []string
	for _, g := range strings.Split(dump, "\n\n") {
		lines := strings.Split(g, "\n")
		if len(lines) > 1 {
			out = append(out, lines[0]+" "+strings.TrimSpace(lines[1]))
		}
	}
	return strings.Join(out, "\n")
}

// Two pages of one guest (a reload before the old page detached) share its
// node, and each has its own event stream; a detached one gets nothing more.
func TestGuestAttachmentsEachGetEvents(t *testing.T) {
	host := startTestNode(t, "host", Config{Guests: "open"})
	bob := startTestNode(t, "bob", Config{})
	linkNodes(t, bob, host)
	join := GuestJoin{Seed: guestSeed(15), Name: "Gina"}
	g1, err := host.HostGuest(context.Background(), join)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := host.HostGuest(context.Background(), join)
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Detach()
	if g1.Node() != g2.Node() {
		t.Fatal("two pages of one guest got two nodes")
	}
	eventually(t, "bob sees the guest", func() bool { p, _ := rosterEntry(bob, g1.ID()); return p.Online })
	received := func(ch <-chan Event, id string) bool {
		timeout := time.After(10 * time.Second)
		for {
			select {
			case ev := <-ch:
				if m, ok := ev.(MessageReceived); ok && m.ID == id {
					return true
				}
			case <-timeout:
				return false
			}
		}
	}
	id, err := bob.Send(g1.ID(), "to both pages")
	if err != nil {
		t.Fatal(err)
	}
	if !received(g1.Events(), id) || !received(g2.Events(), id) {
		t.Fatal("a page missed the message")
	}
	g1.Detach()
	id, err = bob.Send(g1.ID(), "to the page left")
	if err != nil {
		t.Fatal(err)
	}
	if !received(g2.Events(), id) {
		t.Fatal("the remaining page missed the message")
	}
	for len(g1.Events()) > 0 {
		if m, ok := (<-g1.Events()).(MessageReceived); ok && m.ID == id {
			t.Error("a detached page still got events")
		}
	}
	if gs := host.Guests(); len(gs) != 1 || !gs[0].Connected {
		t.Errorf("with one page left: %+v", gs)
	}
}
