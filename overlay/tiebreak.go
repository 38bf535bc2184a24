package overlay

import (
	"crypto/ed25519"
	"errors"
	"net"
	"time"

	"parley/identity"
)

// simultaneousWindow: two links to one peer opened within this span are a
// simultaneous dial, settled by the ID tie-break; a link older than this is presumed
// stale (the peer restarted) and yields to the new one.
const simultaneousWindow = 2 * time.Second

func (o *Overlay) register(conn net.Conn, id identity.PeerID, pub ed25519.PublicKey, outbound bool) {
	now := o.cfg.Now()
	l := newLink(conn, id, pub, outbound, now)
	l.stats = &o.stats
	l.bufSize = o.cfg.LinkBuffer
	if hook := o.cfg.OnRTTSample; hook != nil {
		l.quality.onSample = func(rtt time.Duration) { hook(id, rtt) }
	}
	self := o.cfg.Identity.ID
	o.mu.Lock()
	if o.stopping {
		o.mu.Unlock()
		l.Close()
		return
	}
	old := o.links[id]
	if old != nil {
		lower := min(string(self[:]), string(id[:]))
		newWins := now.Sub(old.Since) > simultaneousWindow ||
			(string(l.dialer(self).Bytes()) == lower && string(old.dialer(self).Bytes()) != lower)
		if !newWins {
			o.mu.Unlock()
			o.stats.Add("link_duplicate_closed", 1)
			supersede(l, false)
			return
		}
		o.stats.Add("link_replaced", 1)
	}
	_, graced := o.grace[id]
	delete(o.grace, id)
	o.links[id] = l
	o.invalidateRoutes()
	if old == nil && !graced {
		o.emit(Event{Kind: LinkUp, Peer: id})
	}
	o.mu.Unlock()
	if old != nil {
		supersede(old, true)
	}
	o.log.Debug("link up", "peer", id.Short(), "remote", l.Remote, "outbound", outbound)
	go l.writeLoop()
	go o.readLoop(l)
	go o.pingLoop(l)
	o.syncTo(l)
	o.requestPublish()
	o.recompute()
}

// supersede closes a connection that lost the duplicate-link tie-break, telling the
// peer why first. running says whether its writer goroutine is already started;
// if it is, the writer closes the link supersedeLinger after the superseded frame
// and everything queued before it are out (writeLoop), and a timer closes it
// after supersedeFlush + supersedeLinger if the peer never takes them.
func supersede(l *Link, running bool) {
	frame := AppendFrame(nil, TypeSuperseded, nil)
	if !running {
		l.conn.SetWriteDeadline(time.Now().Add(time.Second))
		l.conn.Write(frame)
		l.Close()
		return
	}
	if errors.Is(l.send(TypeSuperseded, nil), ErrQueueFull) {
		// The peer is not told, but still gets what is queued, as when a loop
		// polled the queue.
		l.closeWhenDrained.Store(true)
	}
	time.AfterFunc(supersedeFlush+supersedeLinger, l.Close)
}

// supersedeFlush bounds how long a superseded link may take to write its last
// frames: they are at most the 4 MiB of one queue (linkQueueBytes), which a LAN
// peer that reads at all takes in well under a second.
const supersedeFlush = time.Second

// supersedeLinger is how long a superseded link stays open after its last
// frames are written. Its reader still takes what the peer sent before it read
// our superseded frame (typically the peer's record sync on this link), and
// frames queued meanwhile still go out. Closing at once (commit 5d2dc9d) can
// close a socket with unread bytes, which makes the kernel reset the
// connection and drop what it had not yet sent — the superseded frame among
// them — so the peer sees a link going down rather than a supersede (LinkDown,
// a new record, and a redial). 20 ms is what the polling version it replaces
// waited after the queue drained (b8827d0); TestLargeLANBoundsDialDegree (itest)
// re-measures the record copies this affects, TestSupersedeFlushesThenCloses the timing.
const supersedeLinger = 20 * time.Millisecond

// supersedeGrace is how long a superseded link's peer stays "linked" while the
// winning connection finishes its handshake.
const supersedeGrace = 2 * time.Second

func (o *Overlay) unregister(l *Link) {
	l.Close()
	o.mu.Lock()
	if o.links[l.Peer] != l {
		o.mu.Unlock()
		return
	}
	delete(o.links, l.Peer)
	o.invalidateRoutes()
	if l.superseded.Load() && !o.stopping {
		o.stats.Add("link_superseded_by_peer", 1)
		o.grace[l.Peer] = o.cfg.Now().Add(supersedeGrace)
		o.mu.Unlock()
		time.AfterFunc(supersedeGrace, func() { o.endGrace(l.Peer) })
		return
	}
	o.emit(Event{Kind: LinkDown, Peer: l.Peer})
	o.mu.Unlock()
	o.log.Debug("link down", "peer", l.Peer.Short())
	o.requestPublish()
	o.recompute()
}

// endGrace reports a superseded link's peer as down if its replacement never came.
func (o *Overlay) endGrace(id identity.PeerID) {
	o.mu.Lock()
	until, ok := o.grace[id]
	if !ok || o.cfg.Now().Before(until) || o.links[id] != nil {
		o.mu.Unlock()
		return
	}
	delete(o.grace, id)
	o.emit(Event{Kind: LinkDown, Peer: id})
	o.mu.Unlock()
	o.stats.Add("link_replacement_missing", 1)
	o.requestPublish()
	o.recompute()
}
