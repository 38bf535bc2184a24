package app

import (
	"context"
	"log/slog"
	"time"

	"parley/node"
)

// start loads the first picture from the core and follows its events.
func (u *ui) start(ctx context.Context) {
	u.ctx = ctx
	go u.pump(ctx)
	go u.watchDate(ctx)
	type snapshot struct {
		self             node.Ready
		peers            []node.PeerView
		rooms            []node.Room
		presence, status string
		calls            []node.CallInfo
		transfers        []node.Transfer
	}
	background(u, func() (snapshot, error) {
		s := snapshot{self: u.core.Self(), rooms: u.core.Rooms()}
		if pr, ok := u.core.(presenceReporter); ok {
			s.presence, s.status = pr.Presence()
		}
		if u.calls != nil {
			s.calls = u.calls.Calls()
		}
		if u.files != nil {
			s.transfers = u.files.Transfers()
		}
		var err error
		s.peers, err = u.core.Roster()
		return s, err
	}, func(s snapshot, err error) {
		if s.presence != "" {
			u.presence, u.status = s.presence, s.status
		}
		u.setSelf(s.self)
		u.tray.update()
		// Entries that events already brought are newer than this snapshot.
		for _, p := range s.peers {
			if _, ok := u.peers[p.ID]; !ok && p.ID != s.self.ID {
				u.peers[p.ID] = p
			}
		}
		for _, r := range s.rooms {
			if _, ok := u.rooms[r.ID]; !ok {
				u.rooms[r.ID] = r
			}
		}
		u.peersChanged()
		u.roomsV.refresh()
		u.adoptCalls(s.calls)
		u.adoptTransfers(s.transfers)
		if err != nil {
			u.showError("Reading the roster", err)
		}
		u.loadUnread(s.self.ID, s.peers, s.rooms)
		u.loadUrgent() // urgent.go: after the roster, so cards show names
	})
}

// loadUnread counts, per conversation, the received messages not yet read (from the
// newest page of each history).
func (u *ui) loadUnread(self string, peers []node.PeerView, rooms []node.Room) {
	type conv struct{ peer, room string }
	var convs []conv
	for _, p := range peers {
		convs = append(convs, conv{peer: p.ID})
	}
	for _, r := range rooms {
		if r.Joined {
			convs = append(convs, conv{room: r.ID})
		}
	}
	type found struct {
		counts map[node.Conv]int
		last   map[node.Conv]node.Message // the chat list's previews
	}
	background(u, func() (found, error) {
		counts, last := map[node.Conv]int{}, map[node.Conv]node.Message{}
		for _, c := range convs {
			page, err := u.core.History(c.peer, c.room, "", pageSize)
			if err != nil {
				continue
			}
			if n := len(page.Messages); n > 0 {
				last[node.ConvOf(c.peer, c.room)] = page.Messages[n-1]
			}
			for _, m := range page.Messages {
				if m.From != self && m.State == node.StateReceived {
					counts[node.ConvOf(c.peer, c.room)]++
				}
			}
		}
		return found{counts, last}, nil
	}, func(f found, _ error) {
		for k, m := range f.last {
			// Events since are newer; a file's entry (adoptTransfers) may be older.
			if old, ok := u.last[k]; !ok || old.Time.Before(m.Time) {
				u.last[k] = m
			}
		}
		for k, n := range f.counts {
			if k != u.conv.key {
				u.unread[k] = max(u.unread[k], n)
			}
		}
		u.loaded = true
		u.unreadChanged()
	})
	u.firstRun() // firstrun.go: asks for a name until one was chosen
}

// watchDate redraws the day separators when the date changes, so a window
// left open overnight no longer calls yesterday "Today". It looks once a
// minute instead of sleeping until midnight: a timer runs on the monotonic
// clock, which stops while the machine is suspended, and the wall clock may
// be set or change zone meanwhile. The clock itself is read on the UI
// goroutine (dateChanged), where tests replace it.
func (u *ui) watchDate(ctx context.Context) { u.every(ctx, time.Minute, u.dateChanged) }

// every runs fn on the UI goroutine each period until ctx ends.
func (u *ui) every(ctx context.Context, period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			u.do(fn)
		}
	}
}

// dateChanged relabels the day separators if the date is not the one they
// were drawn for.
func (u *ui) dateChanged() {
	d := u.now().Format(time.DateOnly)
	if d == u.date {
		return
	}
	u.date = d
	u.conv.relabel()
}

// pump hands every core event to the UI goroutine.
func (u *ui) pump(ctx context.Context) {
	events := u.core.Events()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			u.do(func() { u.handle(ev) })
		}
	}
}

// handle applies one core event; it runs on the UI goroutine.
func (u *ui) handle(ev node.Event) {
	switch e := ev.(type) {
	case node.Ready:
		u.setSelf(e)
	case node.PeerUp:
		u.upsertPeer(e.Peer)
		u.phones.peerMoved(e.Peer)
	case node.PeerDown:
		p := e.Peer
		p.Online, p.Direct, p.Presence = false, false, node.PresenceOffline
		u.upsertPeer(p)
		u.phones.peerMoved(p)
	case node.PresenceChanged:
		u.upsertPeer(e.Peer)
	case node.QualityChanged:
		u.upsertPeer(e.Peer)
	case node.MessageReceived:
		u.incoming(node.Message{ID: e.ID, Conv: node.DirectConv(e.From), From: e.From, To: u.self.ID,
			Text: e.Text, Time: e.Sent, State: node.StateReceived}, e.From, "")
	case node.RoomMessage:
		u.incoming(node.Message{ID: e.ID, Conv: node.RoomConv(e.Room), From: e.From, Room: e.Room,
			Text: e.Text, Time: e.Sent, State: node.StateReceived}, "", e.Room)
	case node.MessageDelivered:
		u.receipt(e.ID, node.StateDelivered)
	case node.MessagesRead:
		for _, id := range e.IDs {
			u.receipt(id, node.StateRead)
		}
	case node.MessageQueued:
		u.receipt(e.ID, node.StateQueued)
	case node.RoomUpdate:
		u.upsertRoom(e.Room)
	case node.CallIncoming:
		u.onCallIncoming(e)
	case node.CallState:
		u.onCallState(e)
	case node.CallStats:
		u.onCallStats(e)
	case node.KeyChanged:
		u.onKeyChanged(e)
	case node.UrgentMessage:
		u.onUrgent(e)
	case node.AlertRaised:
		u.onAlert(e)
	case node.Acknowledged:
		u.onAcknowledged(e)
	case node.UrgentCancelled:
		u.onUrgentCancelled(e)
	case node.PTTState:
		if u.conv.talk != nil {
			u.conv.talk.onState(e)
		}
	case node.PTTBusy:
		if u.conv.talk != nil {
			u.conv.talk.onBusy(e)
		}
	case node.FileOffer:
		u.onFileOffer(e)
	case node.FileProgress:
		u.onFileProgress(e)
	case node.FileDone:
		u.onFileDone(e)
	case node.FileFailed:
		u.onFileFailed(e)
	case guestRequest:
		u.guests.onRequest(e)
	case guestChanged:
		u.guests.onChanged(e)
	case node.ErrorEvent:
		slog.Warn("core error", "reason", e.Reason)
	case interface{ apply(*ui) }: // events made inside this package (tests)
		e.apply(u)
	}
}

func (u *ui) setSelf(r node.Ready) {
	if r.ID == "" {
		return
	}
	u.self = r
	u.profile.refresh()
	u.peersChanged()
}

func (u *ui) upsertPeer(p node.PeerView) {
	if p.ID == "" || p.ID == u.self.ID {
		return
	}
	if old, ok := u.peers[p.ID]; ok && p.Name == "" {
		p.Name = old.Name
	}
	u.peers[p.ID] = p
	u.peersChanged()
}

// peersChanged refreshes everything that shows peers.
func (u *ui) peersChanged() {
	u.roster.refresh()
	u.chats.refresh()
	u.conv.refreshHeader()
	if u.details != nil {
		u.details.refresh()
	}
}

func (u *ui) upsertRoom(r node.Room) {
	if r.ID == "" {
		return
	}
	u.rooms[r.ID] = r
	u.roomsV.refresh()
	u.chats.refresh()
	u.conv.refreshHeader()
}

// incoming shows a new message: in the open conversation, or as unread.
func (u *ui) incoming(m node.Message, peer, room string) {
	if m.From == u.self.ID {
		return
	}
	if m.Time.IsZero() {
		m.Time = u.now()
	}
	key := node.ConvOf(peer, room)
	u.noteLast(key, m, "")
	open := u.conv.key == key
	if open {
		u.conv.appendMessage(m)
	}
	if open && u.focused {
		u.markRead(peer, room, m.ID)
	} else {
		u.unread[key]++
		u.unreadChanged()
	}
	if !u.focused {
		title := u.peerName(m.From)
		if room != "" {
			title += " in #" + u.roomName(room)
		}
		u.notify(title, m.Text)
		u.messageSound()
	}
}

// markRead tells the core the user has seen a conversation (up to a message, or all).
func (u *ui) markRead(peer, room, upTo string) {
	background(u, func() ([]string, error) { return u.core.MarkRead(peer, room, upTo) },
		func(_ []string, err error) {
			if err != nil {
				slog.Warn("mark read", "err", err)
			}
		})
}

// setFocused records window focus; regaining it marks the open conversation read.
func (u *ui) setFocused(f bool) {
	u.focused = f
	if f && u.conv.key != "" && u.unread[u.conv.key] > 0 {
		u.unread[u.conv.key] = 0
		u.markRead(u.conv.peer, u.conv.room, "")
		u.unreadChanged()
	}
}

const maxReceipts = 4096

// receipt records a delivery state learnt from an event and updates the mark; a
// late, smaller receipt never moves it back (the store's one ordering; the
// provisional "sending" ranks below every stored state).
func (u *ui) receipt(id, state string) {
	if !node.StateAdvances(u.receipts[id], state) {
		return
	}
	if len(u.receipts) >= maxReceipts {
		// Only the open conversation and messages being sent need these; reopened
		// conversations read their states from the history.
		clear(u.receipts)
	}
	u.receipts[id] = state
	u.conv.stateChanged(id)
}

// shownState is the best known state of a message.
func (u *ui) shownState(m node.Message) string {
	if r, ok := u.receipts[m.ID]; ok && node.StateAdvances(m.State, r) {
		return r
	}
	return m.State
}

func (u *ui) roomName(id string) string {
	if r, ok := u.rooms[id]; ok && r.Name != "" {
		return r.Name
	}
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
