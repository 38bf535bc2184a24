package node

import (
	"context"
	"errors"
	"math"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"parley/identity"
	"parley/internal/sysinfo"
	"parley/overlay"
	"parley/selection"
	"parley/vivaldi"
)

// quality measures this node's links and machine, keeps its network coordinate,
// publishes the result in the peer record (extension selection.ExtensionType) when it
// changes materially, and ranks relays from everyone's published picture.
type quality struct {
	n             *Node
	power         sysinfo.Power // override; PowerUnknown = read from the OS
	probeInterval time.Duration

	mu      sync.Mutex
	coord   vivaldi.Coord
	filters map[identity.PeerID]*vivaldi.Filter
	// est smooths each link's figures over minutes for publishing: a single Wi-Fi
	// spike must not make the node republish its record to everyone.
	est       map[identity.PeerID]*selection.LinkEstimator
	lossSeen  map[identity.PeerID]lossReading // the link's counters when its loss was last folded in
	upBps     map[identity.PeerID]float64     // our probes of each link
	downBps   map[identity.PeerID]float64     // peers' probes of us, as we received them
	probedAt  map[identity.PeerID]time.Time
	cpuTotal  uint64
	cpuIdle   uint64
	cpuLoad   float64
	publisher *selection.Publisher
	// current is the latest measurement, every link (this node's own rankings use
	// them all); record is what the last published record carries, at most
	// selection.MaxPublishedLinks links.
	current selection.SelfMetrics
	record  selection.SelfMetrics
	chooser *selection.Chooser

	// linkType is read from the interface table at most once per linkTypeEvery.
	linkTypeAt  time.Time
	linkTypeWas selection.LinkType
}

func newQuality(n *Node, power sysinfo.Power, probeInterval, publishMin time.Duration) *quality {
	if probeInterval <= 0 {
		probeInterval = 10 * time.Minute
	}
	pub := selection.NewPublisher()
	// The rate limit that bounds the overhead (docs/relay-selection.md has the
	// bytes/s per peer it gives); tests shorten it to see changes sooner.
	if publishMin > 0 {
		pub.MinInterval = publishMin
	}
	return &quality{
		n: n, power: power, probeInterval: probeInterval,
		coord:     vivaldi.New(),
		filters:   map[identity.PeerID]*vivaldi.Filter{},
		est:       map[identity.PeerID]*selection.LinkEstimator{},
		lossSeen:  map[identity.PeerID]lossReading{},
		upBps:     map[identity.PeerID]float64{},
		downBps:   map[identity.PeerID]float64{},
		probedAt:  map[identity.PeerID]time.Time{},
		publisher: pub,
		chooser:   selection.NewChooser(selection.DefaultHysteresis()),
	}
}

// published decodes a peer's self-metrics extension.
func published(rec *overlay.Record) (selection.SelfMetrics, bool) {
	if rec == nil {
		return selection.SelfMetrics{}, false
	}
	for _, e := range rec.Extensions {
		if e.Type == selection.ExtensionType {
			m, err := selection.DecodeSelf(e.Value)
			return m, err == nil
		}
	}
	return selection.SelfMetrics{}, false
}

// onRTT feeds a ping sample into the coordinate: a moving median first, so one
// delayed pong does not drag the coordinate around.
func (q *quality) onRTT(peer identity.PeerID, rtt time.Duration) {
	remote, ok := published(q.n.ov.RecordOf(peer))
	q.mu.Lock()
	defer q.mu.Unlock()
	e := q.est[peer]
	if e == nil {
		e = &selection.LinkEstimator{}
		q.est[peer] = e
	}
	e.AddRTT(rtt)
	if !ok || remote.Coord.IsZero() || !remote.Coord.Valid() {
		return
	}
	f := q.filters[peer]
	if f == nil {
		f = &vivaldi.Filter{}
		q.filters[peer] = f
	}
	q.coord.Update(remote.Coord, f.Add(rtt))
}

// onProbeSeen records the rate at which a peer's probe reached us: our download
// capacity on that link.
func (q *quality) onProbeSeen(peer identity.PeerID, bps float64) {
	q.mu.Lock()
	q.downBps[peer] = bps
	q.mu.Unlock()
}

// run measures and publishes until ctx ends.
func (q *quality) run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		q.probeDue(ctx)
		q.publish()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// probeTimeout bounds one probe; a burst still unfinished by then means under 52 kbit/s.
const probeTimeout = 10 * time.Second

// probeDue probes, one at a time, the links not probed within probeInterval (a new
// link after it has carried traffic for 2 s). Each probe is bounded to 64 KiB.
func (q *quality) probeDue(ctx context.Context) {
	now := time.Now()
	for _, l := range q.n.ov.Links() {
		q.mu.Lock()
		last, seen := q.probedAt[l.Peer]
		q.mu.Unlock()
		if (seen && now.Sub(last) < q.probeInterval) || now.Sub(l.Since) < 2*time.Second {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		bps, err := q.n.ov.ProbeCapacity(pctx, l.Peer)
		cancel()
		q.mu.Lock()
		q.probedAt[l.Peer] = time.Now()
		switch {
		case err == nil && bps > 0:
			q.upBps[l.Peer] = bps
		case errors.Is(err, overlay.ErrProbeTimeout):
			// The bounded burst did not get through in time: the link carries less
			// than that, which is worth knowing (an unknown would look average).
			q.upBps[l.Peer] = float64(overlay.ProbeBytes*8) / probeTimeout.Seconds()
		}
		q.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
	}
}

// measure assembles what this node publishes about itself.
func (q *quality) measure() selection.SelfMetrics {
	links := q.n.ov.Links()
	load := q.n.ov.RelayLoad()
	if q.n.turn != nil {
		// Calls relayed by this node's TURN server load it as much as
		// forwarded overlay frames do.
		tl := q.n.turn.Load()
		load.Sessions += tl.Sessions
		load.Bps += tl.BitsPerSecond
	}
	total, idle, ok := sysinfo.System.CPUTimes()
	q.mu.Lock()
	defer q.mu.Unlock()
	if ok && q.cpuTotal != 0 && total > q.cpuTotal {
		q.cpuLoad = 1 - float64(idle-q.cpuIdle)/float64(total-q.cpuTotal)
	}
	if ok {
		q.cpuTotal, q.cpuIdle = total, idle
	}
	m := selection.SelfMetrics{
		Power: q.powerSource(), LinkType: q.cachedLinkType(time.Now()), CPULoad: float32(max(0, min(1, q.cpuLoad))),
		RelaySessions: uint16(min(load.Sessions, math.MaxUint16)), RelayKbps: uint32(load.Bps / 1000),
		Coord: q.coord,
	}
	// Spare capacity of this node's own access: the fastest measured link in each
	// direction, minus what the links carry now. The fastest, not the slowest: a slow
	// neighbour limits only its own link, while this node's own bottleneck (a shaped
	// uplink, a weak Wi-Fi) caps every link. Unmeasured links say nothing (0 = unknown).
	up, down := math.Inf(-1), math.Inf(-1)
	var txBps, rxBps float64
	for _, l := range links {
		txBps += l.Quality.TxBps * 8
		rxBps += l.Quality.RxBps * 8
		if bps, ok := q.upBps[l.Peer]; ok {
			up = max(up, bps)
		}
		if bps, ok := q.downBps[l.Peer]; ok {
			down = max(down, bps)
		}
		lm := selection.LinkMetric{
			Peer: l.Peer, RTT: l.Quality.SRTT, RTTVar: l.Quality.RTTVar, Jitter: l.Quality.Jitter, Loss: float32(l.Quality.Loss),
		}
		if e := q.est[l.Peer]; e != nil && e.Samples() > 0 {
			q.lossSeen[l.Peer] = foldLoss(e, q.lossSeen[l.Peer], l.Quality)
			lm = e.Metric(l.Peer)
		}
		m.Links = append(m.Links, lm)
	}
	kbps := func(capacity, used float64) uint32 {
		if math.IsInf(capacity, -1) {
			return 0
		}
		return uint32(max(1, min((capacity-used)/1000, math.MaxUint32)))
	}
	m.SpareUpKbps, m.SpareDownKbps = kbps(up, txBps), kbps(down, rxBps)
	// One direction measured, the other not yet: assume the link is symmetric rather
	// than publish an unknown that ranking would read as "no capacity at all".
	if m.SpareUpKbps == 0 {
		m.SpareUpKbps = m.SpareDownKbps
	}
	if m.SpareDownKbps == 0 {
		m.SpareDownKbps = m.SpareUpKbps
	}
	slices.SortFunc(m.Links, func(a, b selection.LinkMetric) int { return a.Peer.Compare(b.Peer) })
	if len(m.Links) > selection.MaxSelfLinks {
		m.Links = m.Links[:selection.MaxSelfLinks]
	}
	return m
}

// minLossPackets is how many packets a link must have sent since the last
// reading before its loss is folded into the estimate.
const minLossPackets = 20

// lossReading is a link's counters at one reading.
type lossReading struct {
	lost, sent, bytes uint64
	bulk              bool // the stretch up to this reading carried bulk data
}

// lossCounters reads a link's packets lost and sent and bytes sent so far: the
// kernel's TCP retransmissions, data segments and bytes where it has them, else
// pings and frame bytes. Over TCP a ping is never dropped, only delayed, so ping
// loss sees dead links and nothing else; without the kernel's counters a LAN
// link would always publish 0 loss and the loss terms of every ranking would
// compare zeros. The kernel's bytes go with its segments: the frame counters run
// ahead of the segments while a burst drains.
func lossCounters(q overlay.Quality) lossReading {
	if q.Transport {
		return lossReading{lost: q.SegsRetrans, sent: q.SegsSent, bytes: q.SegsBytes}
	}
	return lossReading{lost: q.Lost, sent: q.Sent, bytes: q.TxBytes}
}

// bulkBatchBytes: a stretch of a link's traffic that carried more than this
// counts as bulk. Pings, pongs and chat send a few kB in the 10 s an idle link
// takes for minLossPackets; a capacity probe sends 64 KiB, a file chunk 256 KiB.
const bulkBatchBytes = 8 << 10

// foldLoss folds a link's loss since the reading prev into e once the link has
// sent minLossPackets since then (an idle link sends about two a second, and one
// retransmission in a one-second interval would read as 50 % loss for that
// interval), and returns the reading to count from next.
//
// A stretch that carried bulk data is skipped. TCP finds a path's capacity by
// filling its bottleneck until a packet drops, so a probe burst or a file
// transfer through a slow link always loses packets; that is what the spare
// bandwidth term measures, not the random loss the loss term is for. Counting it
// made a relay whose 256 kbit/s links were probed every 3 s publish 12 % loss,
// and go on publishing it for minutes after the shaping was lifted, so a test's
// relay choice flapped back to the relay that was now shaped. The stretch after a
// bulk one is skipped as well: a burst's last retransmissions can fall into it.
func foldLoss(e *selection.LinkEstimator, prev lossReading, q overlay.Quality) lossReading {
	cur := lossCounters(q)
	if cur.sent < prev.sent || cur.lost < prev.lost || cur.bytes < prev.bytes {
		prev = lossReading{} // a new connection: its counters started again
	}
	n := cur.sent - prev.sent
	if n < minLossPackets {
		return prev
	}
	cur.bulk = cur.bytes-prev.bytes > bulkBatchBytes
	if !cur.bulk && !prev.bulk {
		e.AddLoss(int(cur.lost-prev.lost), int(n))
	}
	return cur
}

func (q *quality) powerSource() selection.Power {
	p := q.power
	if p == sysinfo.PowerUnknown {
		p = sysinfo.System.PowerSource()
	}
	switch p {
	case sysinfo.PowerMains:
		return selection.Mains
	case sysinfo.PowerBattery:
		return selection.Battery
	}
	return selection.PowerUnknown
}

// linkTypeEvery is how long a reading of the link medium is reused. Reading it
// dumps the interface table over netlink; once a second that was the largest
// allocation of an idle node. The medium changes when the machine moves between
// Wi-Fi and a cable, and the publisher rate-limits a change to one per 30 s anyway.
const linkTypeEvery = 30 * time.Second

// cachedLinkType is linkType, read again when linkTypeEvery has passed. The
// caller holds q.mu.
func (q *quality) cachedLinkType(now time.Time) selection.LinkType {
	if q.linkTypeAt.IsZero() || now.Sub(q.linkTypeAt) >= linkTypeEvery || now.Before(q.linkTypeAt) {
		q.linkTypeWas, q.linkTypeAt = q.linkType(), now
	}
	return q.linkTypeWas
}

// linkType is the medium of the interfaces in use: wireless if any is.
func (q *quality) linkType() selection.LinkType {
	lt := selection.LinkUnknown
	for _, ifc := range discoveryInterfaces(q.n) {
		switch sysinfo.System.LinkTypeOf(ifc.Name) {
		case sysinfo.LinkWireless:
			return selection.Wireless
		case sysinfo.LinkWired:
			lt = selection.Wired
		}
	}
	return lt
}

// publish puts the metrics into the own record when the publisher says so.
func (q *quality) publish() {
	m := q.measure()
	q.mu.Lock()
	q.current = m
	rec := m
	rec.Links = selection.PublishedLinks(m.Links, q.record.Links, selection.MaxPublishedLinks)
	due := q.publisher.Offer(time.Now(), rec)
	if due {
		q.record = rec
	}
	q.mu.Unlock()
	if !due {
		return
	}
	if err := q.n.republishExtensions(); err != nil {
		q.n.log.Warn("publish link quality", "err", err)
	}
}

// extension is the current self-metrics record extension.
func (q *quality) extension() overlay.Extension {
	q.mu.Lock()
	m := q.record
	q.mu.Unlock()
	b, err := selection.EncodeSelf(m)
	if err != nil {
		return overlay.Extension{Type: selection.ExtensionType}
	}
	return overlay.Extension{Type: selection.ExtensionType, Value: b}
}

// graph builds the shared picture: every known record's published metrics plus this
// node's own fresh link measurements.
func (q *quality) graph() *selection.Graph {
	g := &selection.Graph{Peers: map[string]selection.PeerInfo{}}
	add := func(id identity.PeerID, m selection.SelfMetrics, online bool, addrs []netip.AddrPort) {
		pi := selection.PeerInfo{
			ID: id.String(), Coord: m.Coord, Power: m.Power, LinkType: m.LinkType,
			SpareUpKbps: m.SpareUpKbps, SpareDownKbps: m.SpareDownKbps,
			RelaySessions: m.RelaySessions, RelayKbps: m.RelayKbps, CPULoad: m.CPULoad, Online: online,
		}
		for _, a := range addrs {
			pi.Addrs = append(pi.Addrs, a.Addr())
		}
		g.Peers[pi.ID] = pi
		for _, l := range m.Links {
			g.Links = append(g.Links, selection.LinkInfo{A: pi.ID, B: l.Peer.String(), RTT: l.RTT, RTTVar: l.RTTVar, Jitter: l.Jitter, Loss: l.Loss})
		}
	}
	for _, rec := range q.n.ov.Records() {
		m, _ := published(rec)
		add(rec.ID(), m, q.n.ov.Online(rec.ID()), rec.Addrs)
	}
	q.mu.Lock()
	self := q.current
	q.mu.Unlock()
	add(q.n.id.ID, self, true, q.n.ov.AdvertisedAddrs())
	for _, l := range self.Links {
		g.Own = append(g.Own, selection.LinkInfo{A: q.n.id.ID.String(), B: l.Peer.String(), RTT: l.RTT, RTTVar: l.RTTVar, Jitter: l.Jitter, Loss: l.Loss})
	}
	return g
}

// edgeCost is the overlay's routing weight for chat: the chat-forwarding cost of the
// link u→v from what both ends published (the worse view of each figure counts). It
// runs under the overlay's lock, so it reads only the records it is given.
func edgeCost(u, v identity.PeerID, ru, rv *overlay.Record, rtt time.Duration) time.Duration {
	li := selection.LinkInfo{A: u.String(), B: v.String(), RTT: rtt}
	for _, end := range []struct {
		rec  *overlay.Record
		peer identity.PeerID
	}{{ru, v}, {rv, u}} {
		m, ok := published(end.rec)
		if !ok {
			continue
		}
		for _, l := range m.Links {
			if l.Peer == end.peer {
				li.RTTVar = max(li.RTTVar, l.RTTVar)
				li.Jitter = max(li.Jitter, l.Jitter)
				li.Loss = max(li.Loss, l.Loss)
			}
		}
	}
	return time.Duration(selection.EdgeCost(selection.ChatForward, li) * float64(time.Millisecond))
}

// discoveryInterfaces are the interfaces that carry an advertised address. The
// interface table is read once (each interface's addresses once), not once per
// advertised address.
func discoveryInterfaces(n *Node) []net.Interface {
	adv := n.ov.AdvertisedAddrs()
	if len(adv) == 0 {
		return nil
	}
	ifcs, _ := net.Interfaces()
	var out []net.Interface
	for _, ifc := range ifcs {
		addrs, _ := ifc.Addrs()
		if slices.ContainsFunc(addrs, func(a net.Addr) bool {
			p, err := netip.ParsePrefix(a.String())
			return err == nil && slices.ContainsFunc(adv, func(ap netip.AddrPort) bool { return p.Addr() == ap.Addr().WithZone("") })
		}) {
			out = append(out, ifc)
		}
	}
	return out
}
