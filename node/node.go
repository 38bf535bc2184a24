// Package node is Parley's core behind one API: it wires identity, store, discovery,
// overlay, chat, files, calls and relay selection together, and it is the package
// the two skins, the desktop window (app) and the JSON-lines protocol (headless),
// talk to.
//
// # How a feature reaches the skins
//
// A feature crosses into the skins in three pieces, all in this package:
//
//   - A command is a method on *Node (Send, Join, Call, SendFile, SetVerified, …).
//     Skins call them from any goroutine (the window from its own, off the UI
//     goroutine); a method returns when the command is done or refused (Send once
//     the message is stored, AddPeer once the handshake proved the peer), and what
//     follows (delivery, a call answered, a download's progress) comes as events.
//   - What happens later is an Event: one Go type per event (MessageReceived,
//     CallState, FileProgress, …) whose EventName is its name in the headless
//     protocol and whose JSON fields are that event's fields there. Events is the
//     stream of the first skin; Subscribe opens another, independent one (with
//     --control the window and a script each get every event). A stream is bounded
//     (eventBuffer): a skin that stops reading loses events (node_events_dropped),
//     except roster events, which are withheld and later sent again as current
//     state (eventstream.go).
//   - What a command returns is a view type (PeerView, CallInfo, Ready,
//     RelayChoice, AudioDevice, NetInterface, and in views.go Message, Page, Room,
//     Link, Transfer, Conv), shaped for the skins rather than for storage or the
//     wire, and built from the service's own type by one function (messageView,
//     roomView, …).
//
// The services report to the node through callbacks (chat and files through their
// Emit, calls through call.Config.Emit), and onChat, onFiles and onCall turn what
// they report into events. So a feature travels: core service → a method or event
// of this package carrying view types → skin. JSON tags live on the view types
// only (TestViewJSON pins them), so a storage format or a service's type changes
// without touching the skins or the headless protocol; app and headless import no
// core package but node and identity (TestSkinsImportOnlyNode).
//
// Adding a feature therefore touches: a method and its event types here, a headless
// command (docs/headless.md), and, for the window, an optional interface in
// app/core.go.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"parley/chat"
	"parley/discovery"
	"parley/files"
	"parley/identity"
	"parley/internal/clockwait"
	"parley/internal/counters"
	"parley/internal/courier"
	"parley/internal/hlc"
	"parley/internal/sysinfo"
	"parley/internal/team"
	"parley/linkquality"
	"parley/media/call"
	"parley/media/relay"
	"parley/overlay"
	"parley/selection"
	"parley/store"
	"parley/talkgroup"
	"parley/urgent"
)

// Config configures a node.
type Config struct {
	DataDir string
	Name    string // display name; "" keeps the stored one (or the host name)
	Listen  string // link listener host:port; "" = default port, else any
	// AcceptAny lets sources off the interfaces' subnets open links (peers behind
	// a router, reached by add_peer); by default links are for the LAN only.
	AcceptAny bool
	Ifaces    []string // restrict discovery and calls to these interfaces; empty = the stored choice, else all
	Beacons   bool     // link-multicast beacons
	MDNS      bool     // DNS-SD over mDNS
	// BeaconPort overrides the beacon UDP port (tests running several labs).
	BeaconPort int
	// WebPort is the TCP port of the guest web server (package web) on the link
	// addresses, 0 when it is off; only WebURLs reads it (node/weburls.go).
	WebPort int
	// Power overrides the power source read from the OS ("mains", "battery", "" = auto).
	Power string
	// ProbeInterval is how often each link's capacity is probed (10 min; every new
	// link is probed once after 2 s). 64 KiB per probe keeps it cheap.
	ProbeInterval time.Duration
	// QualityInterval is the least time between two publications of this node's
	// link quality (selection.DefaultMinInterval, 30 s); material changes only.
	QualityInterval time.Duration
	// CostMap is an optional administrator's file of costs between address
	// prefixes, combined with the peer-published metrics in relay selection.
	CostMap string
	// CostMapSigner is the peer ID of the member trusted to sign the cost map the
	// overlay carries ("" = the one in the settings; "none" forgets it); see
	// node/costmapshare.go.
	CostMapSigner string
	// Downloads is where accepted files land ("" = DATA/downloads; node/files.go).
	// Set (--downloads), it wins over the folder chosen in the settings
	// (SetDownloads); DownloadsDefault is the folder when neither chose one
	// (the user's Downloads folder for the window; "" = DATA/downloads).
	Downloads        string
	DownloadsDefault string
	// AudioIn and AudioOut choose a call's audio source and sink (see
	// audio.ParseSource: device, null, tone:HZ, FILE.wav); "" = the default device.
	AudioIn, AudioOut string
	// RelayPort is the TURN relay's UDP port (0 = relay.DefaultPort);
	// RelaySessions and RelayBitsPerSecond cap what this node relays for others
	// (0 = the relay package's defaults).
	// RingTimeout is how long a call rings before it gives up (30 s).
	RingTimeout        time.Duration
	RelayPort          int
	RelaySessions      int
	RelayBitsPerSecond float64
	// Team is the optional team invitation (team.ParseInvitation: salt and
	// passphrase in one line): only nodes that share it form an overlay
	// together (package team); "" is an open network.
	Team string
	// Guests says who may join through this node from a browser (node/guests.go):
	// "open", "ask" ("" too) or "off"; MaxGuests caps them at once (0 = 32).
	Guests    string
	MaxGuests int
	Log       *slog.Logger
	Now       func() time.Time

	// guest is set only on a browser guest's node, by its host (guestnode.go).
	guest *guestConfig
}

// Node is a running Parley peer.
type Node struct {
	cfg   Config
	log   *slog.Logger
	id    *identity.Identity
	db    *store.DB
	ov    *overlay.Overlay
	disc  *discovery.Service
	chat  *chat.Service
	rooms *chat.Rooms
	clock *hlc.Clock
	qual  *linkquality.Monitor
	// relayAsks waits for grants of relay asks (relayrep.go).
	relayAsks relayAsks
	// costMap is the administrator's optional cost map (Config.CostMap).
	costMap *selection.CostMap
	// sharedMap is the signed cost map carried by the overlay (costmapshare.go).
	sharedMap sharedCostMap
	stats     counters.Set
	files     *files.Service // file sharing (node/files.go)
	// calls runs voice calls; turn is this node's TURN relay for others' calls
	// (nil when it could not start); callSealed sends and opens sealed call
	// signalling (node/calls.go).
	calls      *call.Manager
	audioIn    string // call audio source and sink specs; guarded by mu
	audioOut   string
	turn       *relay.Server
	callSealed *courier.Courier
	trust      *trust
	teamKey    *team.Key // nil: open network
	web        webCert   // the guest page's HTTPS certificate (webcert.go)
	// ifaces are the interfaces discovery and calls keep (empty: all): --iface,
	// else the stored choice (node/ifaces.go).
	ifaces atomic.Pointer[[]string]

	events  <-chan Event   // the default subscription (Events)
	subsMu  sync.Mutex     // guards streams
	streams []*eventStream // every subscription, events included
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu        sync.Mutex
	profile   overlay.Profile
	shown     map[identity.PeerID]shownProfile // last profile reported per online peer
	dialAfter map[identity.PeerID]time.Time    // backoff for reconnect attempts
	dialing   int                              // dials under way, against maxDialDegree
	meshPoke  chan struct{}                    // run a reconnect pass now
	persisted map[identity.PeerID]persisted    // last roster write per peer
	roster    *rosterWriter                    // roster writes, batched off the event path
	stopped   bool

	guests  guestHost  // the browser guests this node hosts (guests.go)
	media   guestMedia // a browser's audio bridge (guestmedia.go)
	dtmf    dtmfRate   // keypad digits sent this second (dtmf.go)
	devices deviceHost // registered SIP phones (devices.go)

	sounds soundPlayer // rings and chimes (sounds.go)

	urgent *urgent.Service    // urgent messages and alerts (urgent.go)
	ptt    *talkgroup.Service // push-to-talk talkgroups (ptt.go)
	tg     talkgroups
}

// New opens the data dir (refusing a second instance), loads or creates the identity
// and opens the link listener. Start makes it run.
func New(cfg Config) (*Node, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DataDir == "" {
		return nil, errors.New("node: no data dir")
	}
	db, err := store.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	id, err := loadIdentity(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	n := &Node{
		cfg: cfg, log: cfg.Log, id: id, db: db,
		shown:     map[identity.PeerID]shownProfile{},
		dialAfter: map[identity.PeerID]time.Time{},
		meshPoke:  make(chan struct{}, 1),
		persisted: map[identity.PeerID]persisted{},
	}
	n.roster = newRosterWriter(db.PutPeers, func(err error, count int) {
		n.log.Warn("roster write", "peers", count, "err", err)
	})
	n.events = n.Subscribe()
	if err := n.loadProfile(); err != nil {
		db.Close()
		return nil, err
	}
	if err := n.loadIfaces(); err != nil {
		db.Close()
		return nil, err
	}
	power, ok := sysinfo.ParsePower(cfg.Power)
	if !ok {
		db.Close()
		return nil, fmt.Errorf("power source %q: want mains, battery or auto", cfg.Power)
	}
	if err := n.loadTrust(); err != nil {
		db.Close()
		return nil, err
	}
	if cfg.guest != nil {
		n.teamKey = cfg.guest.teamKey // the host's, not derived again (guestnode.go)
	} else if cfg.Team != "" {
		inv, err := team.ParseInvitation(cfg.Team)
		if err == nil {
			n.teamKey, err = team.Derive(inv)
		}
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	if cfg.CostMap != "" {
		if n.costMap, err = loadCostMap(cfg.CostMap); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := n.setupSharedMap(cfg.CostMapSigner); err != nil {
		db.Close()
		return nil, err
	}
	seq, err := n.seqSource()
	if err != nil {
		db.Close()
		return nil, err
	}
	// Links are for the LAN: listen on the interfaces in use, not the wildcard
	// (which answers on a global IPv6 address too), unless the user opened the
	// node to routed peers.
	listenOn := func() []netip.Addr { return n.disc.LocalAddrs() }
	if cfg.AcceptAny {
		listenOn = nil
	}
	n.ov, err = overlay.New(overlay.Config{
		Identity: id, Listen: cfg.Listen,
		// n.qual is made just below, before anything runs: it needs the overlay.
		OnRTTSample: func(p identity.PeerID, rtt time.Duration) { n.qual.OnRTT(p, rtt) },
		OnProbeSeen: func(p identity.PeerID, bps float64) { n.qual.OnProbeSeen(p, bps) },
		EdgeCost:    linkquality.NewEdgeCoster().Cost,
		// Discovery knows the interfaces in use; it is created just below.
		LocalAddrs: func() []netip.Addr { return n.disc.LocalAddrs() },
		// Accept only on-link sources and this host (overlay/listen.go).
		ListenOn:   listenOn,
		AcceptFrom: func(a netip.Addr) bool { return cfg.AcceptAny || a.IsLoopback() || n.disc.OnLink(a) },
		Caps:       []string{"chat/1"}, Now: cfg.Now, Log: cfg.Log,
		Refuse: n.trust.isBlocked, Team: n.teamKey, Seq: seq, AnyPort: cfg.guest != nil, LinkBuffer: linkBuffer(cfg),
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	n.setupQuality(power)
	n.disc = discovery.New(discovery.Config{
		Identity: id, Name: n.displayName, Beacons: cfg.Beacons, MDNS: cfg.MDNS, LinkPort: n.ov.Port(),
		KeepIface: n.keepIface, BeaconPort: cfg.BeaconPort, Now: cfg.Now, Log: cfg.Log,
		Team: n.teamKey, NextSeq: seq.Next, Linked: n.ov.Linked,
	})
	if err := n.setupChat(); err != nil {
		db.Close()
		return nil, err
	}
	if err := n.setupCalls(); err != nil {
		db.Close()
		return nil, err
	}
	if err := n.setupFiles(); err != nil {
		db.Close()
		return nil, err
	}
	if err := n.setupUrgent(); err != nil {
		db.Close()
		return nil, err
	}
	n.setupPTT()
	return n, nil
}

// loadProfile restores name and presence from settings, applying a --name override.
func (n *Node) loadProfile() error {
	name, _, err := n.db.Setting("name")
	if err != nil {
		return err
	}
	if n.cfg.Name != "" && n.cfg.Name != name {
		name = n.cfg.Name
		if err := n.db.SetSetting("name", name); err != nil {
			return err
		}
	}
	if name == "" {
		host, _ := os.Hostname()
		name = host
	}
	pres, _, _ := n.db.Setting("presence")
	p, err := overlay.ParsePresence(pres)
	if err != nil {
		p = overlay.Available
	}
	status, _, _ := n.db.Setting("status")
	n.profile = overlay.Profile{Name: truncate(name, 64), Presence: p, Status: status}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (n *Node) displayName() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.profile.Name
}

// ID is this node's peer ID.
func (n *Node) ID() identity.PeerID { return n.id.ID }

// Events is the node's event stream. It is bounded; a consumer that stops reading
// loses events (counted as node_events_dropped) rather than stalling the node,
// except roster events, which are withheld and sent later as the peer's current
// state (node_events_withheld, node_events_resynced; eventstream.go).
func (n *Node) Events() <-chan Event { return n.events }

// Subscribe returns a new, independent event stream (bounded like Events), for a
// second skin such as a test driver next to the GUI.
func (n *Node) Subscribe() <-chan Event {
	s := newEventStream()
	n.subsMu.Lock()
	n.streams = append(n.streams, s)
	n.subsMu.Unlock()
	return s.ch
}

// emit offers ev to every stream; roster events may be withheld and sent later
// as current state (eventstream.go), anything else is dropped from a full one.
func (n *Node) emit(ev Event) {
	n.subsMu.Lock()
	defer n.subsMu.Unlock()
	for _, s := range n.streams {
		switch sent, withheld := s.offer(ev); {
		case withheld:
			n.stats.Add("node_events_withheld", 1)
		case !sent:
			n.stats.Add("node_events_dropped", 1)
		}
	}
}

// Start runs the node until Stop. Self() describes the running node; skins report
// it first (the headless "ready" event).
func (n *Node) Start(ctx context.Context) error {
	ctx, n.cancel = context.WithCancel(ctx)
	if err := n.ov.SetProfile(n.profile); err != nil {
		return err
	}
	n.seedFromRoster()
	run := func(f func(context.Context)) {
		n.wg.Add(1)
		go func() { defer n.wg.Done(); f(ctx) }()
	}
	run(func(ctx context.Context) {
		if err := n.ov.Run(ctx); err != nil {
			n.emit(ErrorEvent{Reason: err.Error()})
		}
	})
	if n.cfg.Beacons || n.cfg.MDNS {
		run(func(ctx context.Context) {
			if err := n.disc.Run(ctx); err != nil {
				n.log.Error("discovery stopped", "err", err)
				n.emit(ErrorEvent{Reason: "discovery: " + err.Error()})
			}
		})
	}
	run(n.roster.run)
	run(n.resyncLoop)
	run(n.loop)
	run(n.chat.Run)
	run(n.files.Run)
	run(n.qual.Run)
	run(n.reconnectLoop)
	run(n.runUrgent)
	run(n.runPTT)
	return nil
}

func (n *Node) readyEvent() Ready {
	r := Ready{ID: n.id.ID.String(), Name: n.displayName(), Fingerprint: n.id.Fingerprint(), PubKey: n.id.Public, Port: n.ov.Port(), Addrs: []string{}}
	for _, a := range n.ov.AdvertisedAddrs() {
		r.Addrs = append(r.Addrs, a.String())
	}
	if n.teamKey != nil {
		r.Team = n.teamKey.Hint()
	}
	r.WebFingerprint = n.WebFingerprint()
	return r
}

// Stop says goodbye (beacon and offline record), closes links and the store.
func (n *Node) Stop() {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return
	}
	n.stopped = true
	n.mu.Unlock()
	n.stopDevices() // SIP phones' nodes (devices.go), before the guests'
	n.stopGuests()  // their goodbyes go out through this node's links
	n.calls.Close() // hangs up, telling the peers, while links are still up
	n.stopMedia()
	n.stopSounds()
	if n.cfg.Beacons {
		n.disc.Goodbye()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	n.ov.Shutdown(ctx)
	cancel()
	if n.turn != nil {
		n.turn.Close()
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	n.persistAll()
	n.roster.flush()
	n.db.Close()
}

// loop turns discovery and overlay events into dials, roster writes and node events.
func (n *Node) loop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-n.disc.Events():
			n.onDiscovery(ctx, ev)
		case ev := <-n.ov.Events():
			n.onOverlay(ev)
		}
	}
}

func (n *Node) onDiscovery(ctx context.Context, ev discovery.Event) {
	if ev.Outcome != discovery.Added && ev.Outcome != discovery.Updated {
		return
	}
	nb := ev.Neighbour
	if n.ov.Linked(nb.ID) || n.trust.isBlocked(nb.ID) {
		return
	}
	addrs := make([]netip.AddrPort, 0, len(nb.Addrs))
	for _, a := range nb.Addrs {
		addrs = append(addrs, a.AddrPort)
	}
	// Both ends usually discover each other at once; letting the lower ID dial first
	// avoids most duplicate connections, and the higher one follows up shortly in
	// case the lower one cannot reach it.
	delay := time.Duration(0)
	if n.id.ID.Less(nb.ID) == false {
		delay = 300 * time.Millisecond
	}
	// Discovery shares the dial budget with the reconnect loop: on a LAN of a few
	// hundred, dialling every peer heard made a full mesh of every node. A peer not
	// dialled now still reaches the roster through its record, and the reconnect
	// loop dials the nearest of those while the budget allows (dialOrder).
	if !n.reserveDial() {
		n.stats.Add("dial_budget_full", 1)
		return
	}
	go func() {
		defer n.releaseDial()
		if !clockwait.Sleep(ctx, delay) || n.ov.Linked(nb.ID) {
			return
		}
		if err := n.ov.Dial(ctx, nb.ID, addrs); err != nil {
			n.log.Debug("dial discovered peer", "peer", nb.ID.Short(), "err", err)
		}
	}()
}

func (n *Node) onOverlay(ev overlay.Event) {
	n.onUrgentOverlay(ev)
	switch ev.Kind {
	case overlay.PeerOnline:
		n.checkKey(ev.Peer, ev.Record)
		n.noteGuestList(ev.Peer, ev.Record)
		n.noteCostMap(ev.Peer, ev.Record) // costmapshare.go
		n.persistPeer(ev.Peer, true)
		n.updateRooms(ev.Peer, ev.Record)
		n.chat.PeerReachable(ev.Peer)
		view := n.peerView(ev.Peer)
		n.mu.Lock()
		n.shown[ev.Peer] = profileOf(ev.Record)
		n.mu.Unlock()
		n.emit(PeerUp{Peer: view})
		if !view.Direct {
			// Known only through others so far: try a direct link.
			select {
			case n.meshPoke <- struct{}{}:
			default:
			}
		}
	case overlay.PeerOffline:
		n.persistPeer(ev.Peer, true)
		n.noteGuestList(ev.Peer, nil)
		n.mu.Lock()
		delete(n.shown, ev.Peer)
		n.mu.Unlock()
		n.calls.PeerGone(ev.Peer)
		reason := "lost"
		if ev.Record != nil && ev.Record.Offline {
			reason = "goodbye"
		}
		n.emit(PeerDown{Peer: n.peerView(ev.Peer), Reason: reason})
	case overlay.RecordChanged:
		n.checkKey(ev.Peer, ev.Record)
		n.noteGuestList(ev.Peer, ev.Record)
		n.noteCostMap(ev.Peer, ev.Record)
		// Only peers reachable in the overlay go to the roster (PeerOnline writes
		// them at once). Records of unreachable authors cost anyone nothing to mint:
		// writing each to disk let a flood of throwaway identities spend one
		// fsync per record and stall chat commits behind them.
		if n.ov.Online(ev.Peer) {
			n.persistPeer(ev.Peer, false)
		}
		n.updateRooms(ev.Peer, ev.Record)
		p := profileOf(ev.Record)
		n.mu.Lock()
		prev, online := n.shown[ev.Peer]
		if online {
			n.shown[ev.Peer] = p
		}
		n.mu.Unlock()
		switch {
		case !online || ev.Record.Offline || prev == p:
		case prev.shownPresence != p.shownPresence:
			n.emit(PresenceChanged{Peer: n.peerView(ev.Peer)})
		default:
			// Only the published link quality moved (at most every quality interval,
			// and only materially): a roster or a details pane shows it.
			n.emit(QualityChanged{Peer: n.peerView(ev.Peer)})
		}
	}
}

// shownProfile is what presence and quality events report; a change in it is worth
// an event.
type shownProfile struct {
	shownPresence
	// quality is the published link-quality extension, verbatim (comparable).
	quality string
}

type shownPresence struct {
	Name     string
	Presence overlay.Presence
	Status   string
}

func profileOf(r *overlay.Record) shownProfile {
	if r == nil {
		return shownProfile{}
	}
	p := shownProfile{shownPresence: shownPresence{Name: r.Name, Presence: r.Presence, Status: r.Status}}
	for _, e := range r.Extensions {
		if e.Type == selection.ExtensionType {
			p.quality = string(e.Value)
		}
	}
	return p
}
