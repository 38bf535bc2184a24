package node

import (
	"slices"
	"sync"
	"time"

	"parley/identity"
)

// The life of a hosted guest's node: started on admission, shared by the pages
// attached to it, stopped after the last page's grace or with its host.

// startGuest starts an admitted guest's node; called with g.mu held, which it
// releases.
func (n *Node) startGuest(gid *identity.Identity, name, from string) (*Guest, error) {
	g := &n.guests
	h := &hostedGuest{id: gid.ID, name: name, from: from, ready: make(chan struct{}), attached: 1}
	if g.hosted == nil {
		g.hosted = map[identity.PeerID]*hostedGuest{}
	}
	g.hosted[gid.ID] = h
	r, known := g.admitted[gid.ID]
	save := !known || r.Name != name // a new guest, or one that renamed itself
	if save {
		n.rememberLocked(gid.ID, name)
	}
	g.mu.Unlock()
	if save {
		n.saveAdmitted()
	}
	if _, err := n.launchHosted(h, gid, false); err != nil {
		return nil, err
	}
	return n.attached(h)
}

// launchHosted starts the node of a hosted client (a guest, or a phone when sip)
// whose entry h is already in the host's table. The host vouches first, so peers
// that hear of the client see both records agree; if the node cannot start, the
// entry goes and the host's list is published again without it.
func (n *Node) launchHosted(h *hostedGuest, gid *identity.Identity, sip bool) (*Node, error) {
	g := &n.guests
	n.republishGuests()
	child, err := n.startGuestNode(gid, h.name, sip)
	g.mu.Lock()
	h.node, h.err = child, err
	if err != nil && g.hosted[gid.ID] == h {
		delete(g.hosted, gid.ID)
	}
	close(h.ready)
	g.mu.Unlock()
	if err != nil {
		n.republishGuests()
		return nil, err
	}
	return child, nil
}

// attached returns a new attachment of a running (or starting) guest node.
func (n *Node) attached(h *hostedGuest) (*Guest, error) {
	<-h.ready
	if h.err != nil {
		return nil, h.err
	}
	g := &Guest{h: h, host: n, events: newEventStream()}
	h.node.subsMu.Lock()
	h.node.streams = append(h.node.streams, g.events)
	h.node.subsMu.Unlock()
	n.emit(GuestChanged{Guest: n.hostedView(h)})
	return g, nil
}

// unsubscribe stops offering events to s. The channel stays open: a resync
// under way may still put one event into it, which nobody reads.
func (n *Node) unsubscribe(s *eventStream) {
	n.subsMu.Lock()
	defer n.subsMu.Unlock()
	n.streams = slices.DeleteFunc(n.streams, func(x *eventStream) bool { return x == s })
}

// detachGuest ends one attachment; the last one schedules the grace stop.
func (n *Node) detachGuest(h *hostedGuest) {
	g := &n.guests
	g.mu.Lock()
	h.attached--
	if h.attached == 0 && g.hosted[h.id] == h && !g.closed {
		grace := g.grace
		if grace <= 0 {
			grace = defaultGuestGrace
		}
		g.timers.Add(1)
		h.timer = time.AfterFunc(grace, func() {
			defer g.timers.Done()
			n.graceOver(h)
		})
	}
	g.mu.Unlock()
	n.emit(GuestChanged{Guest: n.hostedView(h)})
}

// graceOver stops a guest's node whose browser did not come back.
func (n *Node) graceOver(h *hostedGuest) {
	g := &n.guests
	g.mu.Lock()
	if g.hosted[h.id] != h || h.attached > 0 || g.closed {
		g.mu.Unlock()
		return
	}
	h.timer = nil
	ch := n.unhostLocked(h)
	g.mu.Unlock()
	n.stopHosted(h, ch)
	n.emit(GuestChanged{Guest: n.hostedView(h)})
}

// unhostLocked takes h out of the hosted set and marks it stopping.
func (n *Node) unhostLocked(h *hostedGuest) chan struct{} {
	g := &n.guests
	delete(g.hosted, h.id)
	ch := make(chan struct{})
	if g.stopping == nil {
		g.stopping = map[identity.PeerID]chan struct{}{}
	}
	g.stopping[h.id] = ch
	return ch
}

// stopHosted stops an unhosted guest's node: the host stops vouching, the
// guest's node says goodbye, and its store is free for the next visit.
func (n *Node) stopHosted(h *hostedGuest, ch chan struct{}) {
	n.republishGuests()
	<-h.ready
	if h.node != nil {
		h.node.Stop()
	}
	g := &n.guests
	g.mu.Lock()
	if g.stopping[h.id] == ch {
		delete(g.stopping, h.id)
	}
	g.mu.Unlock()
	close(ch)
}

// listed are the guests this node vouches for in its record: those whose node
// runs or is starting.
func (g *guestHost) listed() []identity.PeerID {
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := make([]identity.PeerID, 0, len(g.hosted))
	for id := range g.hosted {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, identity.PeerID.Compare)
	return ids
}

// republishGuests puts the current guest list into this node's record.
func (n *Node) republishGuests() {
	if err := n.republishExtensions(); err != nil {
		n.log.Warn("publish guests", "err", err)
	}
}

// stopGuests stops every guest's node (the host is stopping): pending requests
// are refused, grace timers cancelled, and each node says goodbye while the
// host's links still carry it.
func (n *Node) stopGuests() {
	g := &n.guests
	g.mu.Lock()
	g.closed = true
	var stops []func()
	for _, p := range g.pending {
		stops = append(stops, func() { close(p.done) })
	}
	g.pending = nil
	for _, h := range g.hosted {
		if h.timer != nil && h.timer.Stop() {
			g.timers.Done()
		}
		h.timer = nil
		ch := n.unhostLocked(h)
		stops = append(stops, func() { n.stopHosted(h, ch) })
	}
	var inFlight []chan struct{}
	for _, ch := range g.stopping {
		inFlight = append(inFlight, ch)
	}
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, stop := range stops {
		wg.Go(stop)
	}
	wg.Wait()
	for _, ch := range inFlight {
		<-ch
	}
	g.timers.Wait()
}
