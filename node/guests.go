package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"parley/identity"
)

// Browser guests (issue 17; /work/notes/GUESTS-DESIGN.md). A browser cannot run
// the overlay, so each admitted guest is a child Node inside its host's process
// (guestnode.go): its own identity, derived from a seed the browser keeps, its
// own store under HOST_DATA/guests/<id>, chat, files and calls. To everyone else
// it is a peer like any other, shown as a guest of its host when both records
// agree (guestsrecord.go). A skin (web/) drives the child through Guest.Node.

// Why a join is refused.
var (
	ErrGuestRefused    = errors.New("guest: the host said no")
	ErrGuestsOff       = errors.New("guest: this node takes no guests")
	ErrGuestsFull      = errors.New("guest: the host has no room for more guests")
	ErrGuestPassphrase = errors.New("guest: wrong team passphrase")
)

const (
	// DefaultMaxGuests is Config.MaxGuests when 0; it is also the most a host's
	// record can vouch for (maxListedGuests).
	DefaultMaxGuests = maxListedGuests
	// maxGuestName bounds a guest's display name in bytes, as the node bounds its
	// own (loadProfile).
	maxGuestName = 64
	// maxGuestFrom bounds the browser address shown in the admission prompt.
	maxGuestFrom = 128
	// defaultGuestGrace is how long a detached guest's node stays up: a page
	// reload comes back well within it, so peers see no offline blip.
	defaultGuestGrace = 10 * time.Second
	// maxRememberedGuests bounds the admissions kept in the host's settings; the
	// oldest are forgotten first (they are asked again).
	maxRememberedGuests = 256
	// settingGuests is the settings key of the remembered admissions (JSON).
	settingGuests = "guests"
)

// Guest states in GuestView.
const (
	GuestPending  = "pending"
	GuestAdmitted = "admitted"
	GuestGone     = "gone" // only in GuestChanged: refused, withdrawn or removed
)

// GuestJoin is a browser's request to join as a guest.
type GuestJoin struct {
	Seed       []byte // the 32 bytes the browser keeps: the guest's identity
	Name       string // display name, trimmed, at most 64 bytes, non-empty
	Passphrase string // the team passphrase when the host is in a closed team
	From       string // the browser's address, shown in the admission prompt
}

// GuestView is one guest of this node: waiting for an answer or admitted, and
// whether its browser is attached now.
type GuestView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	State     string `json:"state"` // pending, admitted (gone in GuestChanged)
	Connected bool   `json:"connected"`
	From      string `json:"from"`
}

// Guest is one attachment of a browser to its guest node. Several may share a
// node (a reload before the old page's Detach).
type Guest struct {
	h      *hostedGuest
	host   *Node
	once   sync.Once
	events *eventStream // this attachment's own subscription to the guest's node
}

// Node is the guest's own node: every command and event of the guest.
func (g *Guest) Node() *Node { return g.h.node }

// Events is this attachment's own stream of the guest node's events (bounded
// like Node.Events), so two pages of one guest (a reload before the old page's
// Detach) each get every event. After Detach nothing more arrives on it.
func (g *Guest) Events() <-chan Event { return g.events.ch }

// ID is the guest's peer ID.
func (g *Guest) ID() string { return g.h.id.String() }

// Detach says the browser went away. When no attachment is left, the guest's node
// says goodbye and stops after the grace (10 s) unless the browser is back by then.
func (g *Guest) Detach() {
	g.once.Do(func() {
		g.h.node.unsubscribe(g.events)
		g.host.detachGuest(g.h)
	})
}

// guestHost is a node's hosted guests; its zero value is ready.
type guestHost struct {
	mu       sync.Mutex
	hosted   map[identity.PeerID]*hostedGuest    // running or starting nodes
	pending  map[identity.PeerID]*pendingGuest   // waiting for AdmitGuest
	stopping map[identity.PeerID]chan struct{}   // closed when that node stopped
	admitted map[identity.PeerID]rememberedGuest // remembered admissions
	loaded   bool                                // admitted was read from settings
	closed   bool                                // the host is stopping
	grace    time.Duration                       // 0: defaultGuestGrace (tests set it)
	timers   sync.WaitGroup                      // grace stops scheduled or running
	persist  sync.Mutex                          // orders writes of admitted
	// lists are the guest lists other hosts publish, as last seen
	// (noteGuestList), by host.
	lists map[identity.PeerID]string
}

type hostedGuest struct {
	id         identity.PeerID
	name, from string
	ready      chan struct{} // closed once node or err is set
	node       *Node
	err        error
	attached   int
	timer      *time.Timer // the grace stop, while detached
	device     bool        // a registered SIP phone (devices.go), not a browser
}

type pendingGuest struct {
	view    GuestView
	waiters int
	done    chan struct{} // closed with admit set
	admit   bool
}

// rememberedGuest is an admission kept across host restarts (by peer ID: the
// seed itself is never stored), as JSON in the settings under its field names
// (untagged: not part of the protocol, TestProtocolFields).
type rememberedGuest struct {
	ID    string
	Name  string
	Since time.Time
}

// HostGuest admits a guest per Config.Guests ("ask" emits GuestRequest and waits
// for AdmitGuest or ctx) and returns its running node. A guest admitted before
// (same seed, same peer ID; remembered in the store) is readmitted without
// asking, also after a host restart; calling it again while the guest's node runs
// (another tab, a reload) returns the same node.
func (n *Node) HostGuest(ctx context.Context, j GuestJoin) (*Guest, error) {
	g, err := n.hostGuest(ctx, j)
	n.stats.Add(guestJoinCounter(err), 1)
	return g, err
}

// guestJoinCounter names the counter of a join's outcome (Stats).
func guestJoinCounter(err error) string {
	switch {
	case err == nil:
		return "guest_joined"
	case errors.Is(err, ErrGuestsOff):
		return "guest_refused_off"
	case errors.Is(err, ErrGuestsFull):
		return "guest_refused_full"
	case errors.Is(err, ErrGuestPassphrase):
		return "guest_refused_passphrase"
	case errors.Is(err, ErrGuestRefused):
		return "guest_refused"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "guest_join_withdrawn"
	}
	return "guest_join_failed" // a bad seed or name, or the guest's node did not start
}

func (n *Node) hostGuest(ctx context.Context, j GuestJoin) (*Guest, error) {
	if n.cfg.guest != nil {
		return nil, ErrGuestsOff // a guest hosts no guests
	}
	gid, err := identity.FromSeed(j.Seed)
	if err != nil {
		return nil, fmt.Errorf("guest: %w", err)
	}
	if gid.ID == n.id.ID {
		return nil, ErrGuestRefused
	}
	name, err := guestName(j.Name)
	if err != nil {
		return nil, err
	}
	from := boundText(j.From, maxGuestFrom)
	mode := n.guestMode()
	if mode == "off" {
		return nil, ErrGuestsOff
	}
	g := &n.guests
	for {
		g.mu.Lock()
		if err := n.loadAdmittedLocked(); err != nil {
			g.mu.Unlock()
			return nil, err
		}
		if g.closed {
			g.mu.Unlock()
			return nil, ErrGuestRefused
		}
		if ch := g.stopping[gid.ID]; ch != nil {
			// Its node is saying goodbye; the store is free once it stopped.
			g.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if h := g.hosted[gid.ID]; h != nil {
			h.attached++
			if h.timer != nil && h.timer.Stop() {
				g.timers.Done()
			}
			h.timer = nil
			g.mu.Unlock()
			return n.attached(h)
		}
		_, remembered := g.admitted[gid.ID]
		if n.teamKey != nil && !remembered && !n.teamPassphrase(j.Passphrase) {
			g.mu.Unlock()
			return nil, ErrGuestPassphrase
		}
		p := g.pending[gid.ID]
		if len(g.hosted)+len(g.pending) >= n.maxGuests() && p == nil {
			g.mu.Unlock()
			return nil, ErrGuestsFull
		}
		if remembered || mode == "open" {
			return n.startGuest(gid, name, from) // unlocks g.mu
		}
		// ask: wait for the user (AdmitGuest), or for the browser to give up.
		fresh := p == nil
		if fresh {
			p = &pendingGuest{view: GuestView{ID: gid.ID.String(), Name: name, State: GuestPending, From: from}, done: make(chan struct{})}
			if g.pending == nil {
				g.pending = map[identity.PeerID]*pendingGuest{}
			}
			g.pending[gid.ID] = p
		}
		p.waiters++
		g.mu.Unlock()
		if fresh {
			n.emit(GuestRequest{Guest: p.view.ID, Name: name, From: from})
			n.emit(GuestChanged{Guest: p.view})
		}
		select {
		case <-p.done:
			if !p.admit {
				return nil, ErrGuestRefused
			}
			// Admitted and remembered: the next pass starts its node.
		case <-ctx.Done():
			n.withdrawRequest(gid.ID, p)
			return nil, ctx.Err()
		}
	}
}

// withdrawRequest drops a request whose last waiting browser gave up.
func (n *Node) withdrawRequest(id identity.PeerID, p *pendingGuest) {
	g := &n.guests
	g.mu.Lock()
	p.waiters--
	gone := p.waiters == 0 && g.pending[id] == p
	if gone {
		delete(g.pending, id)
	}
	g.mu.Unlock()
	if gone {
		v := p.view
		v.State = GuestGone
		n.emit(GuestChanged{Guest: v})
	}
}

// AdmitGuest answers a GuestRequest: on admits the guest (and remembers it, so it
// is not asked again), otherwise it is refused.
func (n *Node) AdmitGuest(id string, on bool) error {
	pid, err := identity.ParsePeerID(id)
	if err != nil {
		return err
	}
	g := &n.guests
	g.mu.Lock()
	p := g.pending[pid]
	if p == nil {
		g.mu.Unlock()
		return fmt.Errorf("no guest %s is waiting", pid.Short())
	}
	delete(g.pending, pid)
	p.admit = on
	if on {
		n.rememberLocked(pid, p.view.Name)
	}
	g.mu.Unlock()
	if on {
		n.saveAdmitted()
	} else {
		v := p.view
		v.State = GuestGone
		n.emit(GuestChanged{Guest: v})
	}
	close(p.done)
	return nil
}

// RemoveGuest stops a guest's node now and forgets its admission (it is asked
// again next time); a waiting request is refused.
func (n *Node) RemoveGuest(id string) error {
	pid, err := identity.ParsePeerID(id)
	if err != nil {
		return err
	}
	g := &n.guests
	g.mu.Lock()
	if err := n.loadAdmittedLocked(); err != nil {
		g.mu.Unlock()
		return err
	}
	view := GuestView{ID: pid.String(), State: GuestGone}
	p := g.pending[pid]
	if p != nil {
		delete(g.pending, pid)
		view.Name, view.From = p.view.Name, p.view.From
	}
	h := g.hosted[pid]
	var ch chan struct{}
	if h != nil {
		if h.timer != nil && h.timer.Stop() {
			g.timers.Done()
		}
		h.timer = nil
		ch = n.unhostLocked(h)
		view.Name, view.From = h.name, h.from
	}
	r, known := g.admitted[pid]
	if known {
		delete(g.admitted, pid)
		if view.Name == "" {
			view.Name = r.Name
		}
	}
	g.mu.Unlock()
	if p == nil && h == nil && !known {
		return fmt.Errorf("no guest %s", pid.Short())
	}
	if p != nil {
		close(p.done) // admit stays false: refused
	}
	if known {
		n.saveAdmitted()
	}
	if h != nil {
		n.stopHosted(h, ch)
	}
	n.emit(GuestChanged{Guest: view})
	return nil
}

// Guests lists this node's guests: those waiting for an answer, then the admitted
// ones (attached now or not), by name.
func (n *Node) Guests() []GuestView {
	g := &n.guests
	g.mu.Lock()
	defer g.mu.Unlock()
	_ = n.loadAdmittedLocked()
	var out []GuestView
	for _, p := range g.pending {
		out = append(out, p.view)
	}
	seen := map[identity.PeerID]bool{}
	for id, h := range g.hosted {
		if h.device {
			continue // listed by SIPAccounts
		}
		seen[id] = true
		out = append(out, GuestView{ID: id.String(), Name: h.name, State: GuestAdmitted, Connected: h.attached > 0, From: h.from})
	}
	for id, r := range g.admitted {
		if !seen[id] {
			out = append(out, GuestView{ID: r.ID, Name: r.Name, State: GuestAdmitted})
		}
	}
	slices.SortFunc(out, func(a, b GuestView) int {
		if a.State != b.State {
			return strings.Compare(b.State, a.State) // pending first
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// hostedView is h's GuestView now.
func (n *Node) hostedView(h *hostedGuest) GuestView {
	g := &n.guests
	g.mu.Lock()
	defer g.mu.Unlock()
	return GuestView{ID: h.id.String(), Name: h.name, State: GuestAdmitted, Connected: h.attached > 0 && g.hosted[h.id] == h, From: h.from}
}
