package node

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"parley/identity"
	"parley/internal/team"
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
	h    *hostedGuest
	host *Node
	once sync.Once
}

// Node is the guest's own node: every command and event of the guest.
func (g *Guest) Node() *Node { return g.h.node }

// ID is the guest's peer ID.
func (g *Guest) ID() string { return g.h.id.String() }

// Detach says the browser went away. When no attachment is left, the guest's node
// says goodbye and stops after the grace (10 s) unless the browser is back by then.
func (g *Guest) Detach() { g.once.Do(func() { g.host.detachGuest(g.h) }) }

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
}

type hostedGuest struct {
	id         identity.PeerID
	name, from string
	ready      chan struct{} // closed once node or err is set
	node       *Node
	err        error
	attached   int
	timer      *time.Timer // the grace stop, while detached
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

// startGuest starts an admitted guest's node; called with g.mu held, which it
// releases.
func (n *Node) startGuest(gid *identity.Identity, name, from string) (*Guest, error) {
	g := &n.guests
	h := &hostedGuest{id: gid.ID, name: name, from: from, ready: make(chan struct{}), attached: 1}
	if g.hosted == nil {
		g.hosted = map[identity.PeerID]*hostedGuest{}
	}
	g.hosted[gid.ID] = h
	_, known := g.admitted[gid.ID]
	if !known {
		n.rememberLocked(gid.ID, name)
	}
	g.mu.Unlock()
	if !known {
		n.saveAdmitted()
	}
	// The host vouches first, so peers that hear of the guest see it agreed.
	n.republishGuests()
	child, err := n.startGuestNode(gid, name)
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
	return n.attached(h)
}

// attached returns a new attachment of a running (or starting) guest node.
func (n *Node) attached(h *hostedGuest) (*Guest, error) {
	<-h.ready
	if h.err != nil {
		return nil, h.err
	}
	n.emit(GuestChanged{Guest: n.hostedView(h)})
	return &Guest{h: h, host: n}, nil
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

// guestMode is Config.Guests, with anything unknown read as off.
func (n *Node) guestMode() string {
	switch n.cfg.Guests {
	case "", "ask":
		return "ask"
	case "open":
		return "open"
	}
	return "off"
}

// ParseGuestMode checks a --guests value.
func ParseGuestMode(s string) (string, error) {
	switch s {
	case "open", "ask", "off":
		return s, nil
	case "":
		return "ask", nil
	}
	return "", fmt.Errorf("guests %q: want open, ask or off", s)
}

func (n *Node) maxGuests() int {
	if m := n.cfg.MaxGuests; m > 0 {
		return min(m, maxListedGuests)
	}
	return DefaultMaxGuests
}

// teamPassphrase compares a guest's passphrase with this node's team invitation's,
// in constant time (a timing difference would let a browser guess it byte by byte).
func (n *Node) teamPassphrase(p string) bool {
	inv, err := team.ParseInvitation(n.cfg.Team)
	if err != nil {
		return false
	}
	want := []byte(inv.Passphrase)
	got := []byte(strings.TrimSpace(p))
	// ConstantTimeCompare returns at once on a length mismatch; comparing
	// digests of equal length hides the length too.
	g, w := sha256.Sum256(got), sha256.Sum256(want)
	return len(want) > 0 && subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// guestName trims and bounds a guest's display name.
func guestName(s string) (string, error) {
	s = boundText(s, maxGuestName)
	if s == "" {
		return "", errors.New("guest: a name is required")
	}
	return s, nil
}

// boundText makes browser text safe to show: valid UTF-8, no control characters,
// trimmed, at most max bytes (cut at a character boundary).
func boundText(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	for len(s) > max {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return strings.TrimSpace(s)
}

// loadAdmittedLocked reads the remembered admissions once.
func (n *Node) loadAdmittedLocked() error {
	g := &n.guests
	if g.loaded {
		return nil
	}
	g.admitted = map[identity.PeerID]rememberedGuest{}
	raw, ok, err := n.db.Setting(settingGuests)
	if err != nil {
		return err
	}
	g.loaded = true
	if !ok || raw == "" {
		return nil
	}
	var list []rememberedGuest
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		n.log.Warn("remembered guests unreadable; they will be asked again", "err", err)
		return nil
	}
	for _, r := range list {
		if id, err := identity.ParsePeerID(r.ID); err == nil {
			g.admitted[id] = r
		}
	}
	return nil
}

// rememberLocked records an admission, forgetting the oldest beyond the bound.
func (n *Node) rememberLocked(id identity.PeerID, name string) {
	g := &n.guests
	if g.admitted == nil {
		g.admitted = map[identity.PeerID]rememberedGuest{}
	}
	g.admitted[id] = rememberedGuest{ID: id.String(), Name: name, Since: n.cfg.Now()}
	for len(g.admitted) > maxRememberedGuests {
		var oldest identity.PeerID
		var at time.Time
		for id, r := range g.admitted {
			if at.IsZero() || r.Since.Before(at) {
				oldest, at = id, r.Since
			}
		}
		delete(g.admitted, oldest)
	}
}

// saveAdmitted writes the remembered admissions to the settings.
func (n *Node) saveAdmitted() {
	g := &n.guests
	g.persist.Lock()
	defer g.persist.Unlock()
	g.mu.Lock()
	list := make([]rememberedGuest, 0, len(g.admitted))
	for _, r := range g.admitted {
		list = append(list, r)
	}
	g.mu.Unlock()
	slices.SortFunc(list, func(a, b rememberedGuest) int { return strings.Compare(a.ID, b.ID) })
	b, err := json.Marshal(list)
	if err == nil {
		err = n.db.SetSetting(settingGuests, string(b))
	}
	if err != nil {
		n.log.Warn("remember guests", "err", err)
	}
}
