package itest

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"parley/chat"
	"parley/discovery"
	"parley/identity"
	"parley/internal/hostile"
	"parley/internal/netlab"
	"parley/overlay"
)

// attackMemBoundMiB bounds the RSS growth of an honest node across one attack:
// room for the tables the attacks fill up to their caps (4,096 records, 4,096
// neighbours, a few hundred roster entries) and nothing that grows with the
// attack's length. The race detector (make test-integration builds the nodes
// with it) multiplies memory 5–10×, so a race-built binary gets 8× the bound.
func attackMemBoundMiB(t *testing.T, bin string) int {
	t.Helper()
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("build info of %s: %v", bin, err)
	}
	for _, s := range info.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return 8 * 32
		}
	}
	return 32
}

// linkAddr is where n's link listener answers, on the lab's main segment.
func (n *node) linkAddr() string {
	n.c.t.Helper()
	port := must(n.Self()).on(n).Port
	return net.JoinHostPort(n.host.IP(n.c.seg), strconv.Itoa(int(port)))
}

// linkAs links the attacker to n's listener under its own key and waits until n
// has sent it the record table, so what it sends next reaches a settled node. The
// link closes when the test ends.
func (n *node) linkAs(ctx context.Context, evil *hostile.Attacker) *hostile.Link {
	n.c.t.Helper()
	link, err := evil.Dial(ctx, n.linkAddr(), evil.ID)
	if err != nil {
		n.c.t.Fatal(err)
	}
	n.c.t.Cleanup(func() { link.Close() })
	if err := link.Sync(5 * time.Second); err != nil {
		n.c.t.Fatal(err)
	}
	return link
}

// victimPair starts the victim n1 and its honest neighbour n2 on the plain build,
// linked both ways, and the attacker's host.
func victimPair(t *testing.T) (c *cluster, n1, n2 *node, evilHost *netlab.Host) {
	t.Helper()
	c = newPlainCluster(t)
	n1 = c.start(c.host("h1"), "n1")
	n2 = c.start(c.host("h2"), "n2")
	evilHost = c.host("evil")
	n1.waitPeerUp(15*time.Second, n2)
	n2.waitPeerUp(15*time.Second, n1)
	return c, n1, n2, evilHost
}

func (n *node) pubKey() []byte {
	n.c.t.Helper()
	k := must(n.Self()).on(n).PubKey
	if len(k) != 32 {
		n.c.t.Fatalf("%s pubkey: %d bytes, want 32", n.name, len(k))
	}
	return k
}

// TestHostileForgeryReplayMITM: a hostile host on the LAN forges beacons and peer
// records in an honest peer's name, replays that peer's old record, sends
// oversized and malformed frames and forged routed messages over a link of its
// own, and impersonates a peer that went offline (DNS-SD points at the attacker,
// whose TLS key does not match). All of it keeps repeating while the honest peers
// chat: each attack is dropped and counted, the honest peers' view is unchanged,
// latency stays within 2× of normal and memory bounded.
func TestHostileForgeryReplayMITM(t *testing.T) {
	c := newCluster(t)
	n1 := c.start(c.host("h1"), "n1")
	n2 := c.start(c.host("h2"), "n2")
	n3 := c.start(c.host("h3"), "n3")
	evilHost := c.host("evil")
	for _, n := range []*node{n1, n2, n3} {
		n.waitPeerUp(15*time.Second, n1, n2, n3)
	}
	// n3 leaves cleanly: the attacker will try to take its place.
	victimGone := n3.id
	if err := n3.Quit(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	n1.WaitEventAny(10*time.Second, func(e netlab.Event) bool { return e.Name() == "peer_down" && e.PeerID() == victimGone })

	normal := chatLatency(t, n1, n2, 25, 40*time.Millisecond)
	mem := map[*node]int{n1: rssKiB(t, n1.PID()), n2: rssKiB(t, n2.PID())}
	before1, before2 := n1.counters(), n2.counters()

	evil, err := hostile.New(evilHost.Do)
	if err != nil {
		t.Fatal(err)
	}
	n2key := n2.pubKey()
	n2id, _ := identity.ParsePeerID(n2.id)
	n1id, _ := identity.ParsePeerID(n1.id)
	goneID, _ := identity.ParsePeerID(victimGone)

	// A link of the attacker's own (its key is valid: an open network admits anyone).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	link := n1.linkAs(ctx, evil)
	// Something to replay: n2's current record, captured off the flood, and then a
	// newer one (n2 changes presence) so the captured one is old.
	eventually(t, 5*time.Second, "the attacker to capture n2's record", func() bool { return len(link.Records(n2id)) > 0 })
	old := link.Records(n2id)[0]
	n2.ok(n2.Presence("busy", "on shift"))
	eventually(t, 5*time.Second, "n1 to see n2 busy", func() bool { p := n1.roster()[n2.id]; return p != nil && p.Presence == "busy" })

	// The impostor: DNS-SD says n3 is at the attacker's address; the attacker's TLS
	// key is its own, so it cannot prove n3's ID.
	imp, err := evil.Impostor(goneID, evil.ID, evilHost.Iface(c.seg))
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Close()

	forgedRecord, err := hostile.ForgedRecord(n2key, "n2")
	if err != nil {
		t.Fatal(err)
	}
	group := discovery.BeaconGroup4.String() + ":48555"
	iface := evilHost.Iface(c.seg)
	var rounds int
	attackRound := func() error {
		var pkts [][]byte
		for _, kind := range []discovery.BeaconKind{discovery.KindAnnounce, discovery.KindGoodbye} {
			p, err := hostile.ForgedBeacon(n2key, kind, 48556, "n2")
			if err != nil {
				return err
			}
			pkts = append(pkts, p)
		}
		if _, err := evil.SendDatagrams(group, iface, pkts, 0); err != nil {
			return err
		}
		frames := [][]byte{
			overlay.AppendFrame(nil, overlay.TypeRecord, forgedRecord),                                         // record_drop_forged
			overlay.AppendFrame(nil, overlay.TypeRecord, old),                                                  // record_drop_stale
			overlay.AppendFrame(nil, overlay.TypeRecord, []byte{1, 2, 3}),                                      // record_drop_malformed
			append(hostile.Header(9, overlay.TypePing, 4), "ping"...),                                          // frame_skipped (version)
			overlay.AppendFrame(nil, 200, []byte("no such type")),                                              // frame_unknown_type
			overlay.AppendFrame(nil, chat.TypeMessage, []byte{7, 7, 7}),                                        // chat_drop_malformed
			overlay.AppendFrame(nil, overlay.TypeRouted, []byte{0, 1, 2}),                                      // route_drop_malformed
			overlay.AppendFrame(nil, overlay.TypeRouted, hostile.Routed(0, n2id, n1id, chat.TypeMessage, nil)), // ttl 0: malformed
			// A routed message that claims n2 sent it; the seal cannot be opened.
			overlay.AppendFrame(nil, overlay.TypeRouted, hostile.Routed(4, n1id, n2id, chat.TypeSealed, []byte("not a sealed envelope"))),
			// A routed frame for a peer nobody knows.
			overlay.AppendFrame(nil, overlay.TypeRouted, hostile.Routed(4, goneID, evil.ID.ID, chat.TypeSealed, []byte("x"))),
		}
		for _, f := range frames {
			if err := link.Raw(f); err != nil {
				return err
			}
		}
		rounds++
		return link.Sync(10 * time.Second)
	}
	// Oversized: a frame past the 1 MiB limit, sent in full (the reader skips it).
	big := append(hostile.Header(1, overlay.TypeRecord, overlay.MaxFrame+1), make([]byte, overlay.MaxFrame+1)...)
	if err := link.Raw(big); err != nil {
		t.Fatal(err)
	}
	if err := attackRound(); err != nil {
		t.Fatal(err)
	}

	// The attack keeps going, one round every 50 ms, while the honest peers chat.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var attackErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if err := attackRound(); err != nil {
				attackErr = err
				return
			}
		}
	}()
	attack := chatLatency(t, n1, n2, 25, 40*time.Millisecond)
	// The impostor is found by a DNS-SD browse; n1 browses with backoff (1, 2, 4,
	// 8, 16, 30 s), so give it one full period.
	eventually(t, 35*time.Second, "n1 or n2 to dial the impostor and refuse its key", func() bool {
		return n1.counters()["link_wrong_key"] > before1["link_wrong_key"] || n2.counters()["link_wrong_key"] > before2["link_wrong_key"]
	})
	close(stop)
	wg.Wait()
	if attackErr != nil {
		t.Fatalf("attack round failed (the hostile link should survive its own garbage): %v", attackErr)
	}

	r := float64(rounds)
	wants := []struct {
		key string
		min float64
	}{
		// The forged announce names n2, a linked peer, so n1 drops it before
		// reading its signature; the forged goodbye is always checked.
		{"beacon_drop_forged", r},
		{"beacon_skipped_linked", r},
		{"record_drop_forged", r},
		{"record_drop_stale", r},
		{"record_drop_malformed", r},
		{"frame_skipped", r + 1}, // every bad-version frame plus the oversized one
		{"frame_unknown_type", r},
		{"chat_drop_malformed", r},
		{"route_drop_malformed", 2 * r},
		{"chat_drop_unsealable", r},
		{"route_drop_unreachable", r},
	}
	// Frames are counted by the time link.Sync returns, but the last round's beacons
	// travel by multicast and are counted whenever n1's receiver gets to them: wait
	// (briefly) for every count to arrive before judging any.
	var after1, after2 map[string]float64
	allCounted := func() bool {
		after1, after2 = n1.counters(), n2.counters()
		for _, want := range wants {
			if delta(before1, after1, want.key) < want.min {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(5 * time.Second); !allCounted() && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range wants {
		if got := delta(before1, after1, want.key); got < want.min {
			t.Errorf("n1 %s: +%v, want at least +%v (%d attack rounds)", want.key, got, want.min, rounds)
		}
	}
	t.Logf("%d attack rounds; n1 counted: beacon_drop_forged +%v, record_drop_forged +%v, record_drop_stale +%v, "+
		"record_drop_malformed +%v, frame_skipped +%v, frame_unknown_type +%v, chat_drop_malformed +%v, "+
		"route_drop_malformed +%v, chat_drop_unsealable +%v, route_drop_unreachable +%v, link_wrong_key +%v (n2 +%v); impostor saw %d dial(s)",
		rounds, delta(before1, after1, "beacon_drop_forged"), delta(before1, after1, "record_drop_forged"),
		delta(before1, after1, "record_drop_stale"), delta(before1, after1, "record_drop_malformed"),
		delta(before1, after1, "frame_skipped"), delta(before1, after1, "frame_unknown_type"),
		delta(before1, after1, "chat_drop_malformed"), delta(before1, after1, "route_drop_malformed"),
		delta(before1, after1, "chat_drop_unsealable"), delta(before1, after1, "route_drop_unreachable"),
		delta(before1, after1, "link_wrong_key"), delta(before2, after2, "link_wrong_key"), imp.Attempts())
	if imp.Attempts() == 0 {
		t.Errorf("no honest node dialed the impostor, so the MITM was never tried")
	}

	// The honest view is intact: n2 online with its real, newest presence (the stale
	// record did not roll it back, the forged goodbye did not take it away), n3 not
	// back, the impostor's link never made, the attacker's garbage never shown.
	roster := n1.roster()
	if p := roster[n2.id]; p == nil || !p.Online || p.Presence != "busy" {
		t.Errorf("n1's view of n2 after the attack: %v", p)
	}
	if p := roster[victimGone]; p != nil && p.Online {
		t.Errorf("n3 came back online through the impostor: %v", p)
	}
	for _, n := range []*node{n1, n2} {
		if l := n.links()[victimGone]; l != nil {
			t.Errorf("%s has a link filed under n3's ID: %v", n.name, l)
		}
		for _, e := range n.Events() {
			if e.Name() == "message" && e.Str("from") != n1.id && e.Str("from") != n2.id {
				t.Errorf("%s showed a message from %s", n.name, e.Str("from"))
			}
		}
	}
	select {
	case <-link.Done():
		t.Errorf("n1 closed the attacker's link: malformed frames must cost a frame, not the link")
	default:
	}
	within2x(t, "n1→n2 during forgery/replay/malformed frames", normal, attack)
	memBound(t, attackMemBoundMiB(t, c.bin), mem, n1, n2)
}

// TestHostileFloodAndSybils: a hostile host floods chat at 10× the honest rate over
// a link of its own, then announces thousands of throwaway identities (validly
// signed) by beacons and by peer records, some of them wired into the overlay
// graph so they look online. Honest chat keeps its latency (within 2×), the flood
// only fills the flooder's own queue, the tables stop at their caps (counted) and
// memory stays bounded.
//
// Its assertions are latency and memory figures, so it runs the ordinary build:
// under the race detector a signature check costs ten times what it costs a user,
// and the test would measure the detector. TestHostileForgeryReplayMITM sends the
// same kinds of hostile input through the race build.
func TestHostileFloodAndSybils(t *testing.T) {
	c, n1, n2, evilHost := victimPair(t)

	// Normal: n2 writes to n1 at 10 messages a second.
	const gap = 100 * time.Millisecond
	normal := chatLatency(t, n2, n1, 30, gap)
	mem := map[*node]int{n1: rssKiB(t, n1.PID()), n2: rssKiB(t, n2.PID())}
	before1, before2 := n1.counters(), n2.counters()

	evil, err := hostile.New(evilHost.Do)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	link := n1.linkAs(ctx, evil)

	// Phase 1, the flood: 10× the honest rate (100 messages a second) for as long as
	// the honest probe runs, bounded at 2,000 messages.
	const floodMax = 2000
	floodRate := 10 * int(time.Second/gap)
	stop := make(chan struct{})
	var flooded int
	var floodErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(floodRate))
		defer tick.Stop()
		for flooded < floodMax {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if err := link.Frame(chat.TypeMessage, hostile.ChatMessage(fmt.Sprintf("flood %d", flooded))); err != nil {
				floodErr = err
				return
			}
			flooded++
		}
	}()
	underFlood := chatLatency(t, n2, n1, 30, gap)
	close(stop)
	wg.Wait()
	if floodErr != nil {
		t.Fatalf("flood: %v", floodErr)
	}
	if err := link.Sync(30 * time.Second); err != nil {
		t.Fatalf("after the flood: %v", err)
	}
	// The flooder is an ordinary (if noisy) peer: its messages are stored once each,
	// and the honest peer's got through alongside.
	eventually(t, 30*time.Second, "n1 to show every flooded message", func() bool {
		k := 0
		for _, e := range n1.Events() {
			if e.Name() == "message" && e.Str("from") == evil.ID.ID.String() {
				k++
			}
		}
		return k >= flooded
	})
	mid1 := n1.counters()
	t.Logf("flood: %d messages at %d/s (10× the honest %d/s); n1 chat_commits +%v, chat_backpressure +%v",
		flooded, floodRate, int(time.Second/gap), delta(before1, mid1, "chat_commits"), delta(before1, mid1, "chat_backpressure"))
	within2x(t, "n2→n1 while the attacker floods n1 at 10×", normal, underFlood)

	// Phase 2, Sybils: 6,000 throwaway identities announced by beacons (more than
	// the 4,096-entry neighbour table; some are lost to the receiver's socket
	// buffer, as a flood would be) pointing at a closed port on the attacker, and
	// 5,000 by records (more than the 4,096-record cap). The first 500 records
	// list the attacker as a neighbour, and the attacker's own record lists them,
	// so they are reachable in the graph: online peers as far as n1 can tell.
	const sybils, wired, beaconSybils = 5000, 500, 6000
	fakes, err := hostile.Throwaway(beaconSybils)
	if err != nil {
		t.Fatal(err)
	}
	var beacons, records [][]byte
	var wiredIDs []identity.PeerID
	seq := uint64(time.Now().UnixMicro())
	for i, f := range fakes {
		beacons = append(beacons, hostile.ValidBeacon(f, 9, fmt.Sprintf("sybil-%d", i)))
		if i >= sybils {
			continue
		}
		var nbs []identity.PeerID
		if i < wired {
			nbs = []identity.PeerID{evil.ID.ID}
			wiredIDs = append(wiredIDs, f.ID)
		}
		raw, err := hostile.SignRecord(f, seq, fmt.Sprintf("sybil-%d", i), nbs)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, raw)
	}
	own, err := hostile.SignRecord(evil.ID, seq, "evil", append([]identity.PeerID{n1ID(t, n1)}, wiredIDs...))
	if err != nil {
		t.Fatal(err)
	}
	var sybilErr error
	var beaconsSent int
	var sybilWG sync.WaitGroup
	sybilWG.Add(2)
	go func() {
		defer sybilWG.Done()
		group := discovery.BeaconGroup4.String() + ":48555"
		n, err := evil.SendDatagrams(group, evilHost.Iface(c.seg), beacons, 300)
		beaconsSent = n
		if err != nil {
			sybilErr = err
		}
	}()
	go func() {
		defer sybilWG.Done()
		if err := link.Frame(overlay.TypeRecord, own); err != nil {
			sybilErr = err
			return
		}
		// 250 records a second: 5,000 peers in twenty seconds.
		for i, raw := range records {
			if err := link.Frame(overlay.TypeRecord, raw); err != nil {
				sybilErr = err
				return
			}
			if i%25 == 24 {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	busy := make(chan struct{})
	go func() { sybilWG.Wait(); close(busy) }()
	underSybils := chatLatencyWhile(t, n2, n1, 30, gap, busy)
	<-busy
	if sybilErr != nil {
		t.Fatalf("sybil announcements: %v", sybilErr)
	}
	if err := link.Sync(60 * time.Second); err != nil {
		t.Fatalf("after the sybil records: %v", err)
	}
	after1, after2 := n1.counters(), n2.counters()
	t.Logf("sybils: %d beacons sent, n1 beacon_accepted +%v, beacon_drop_table_full +%v; %d records sent, n1 record_accepted +%v, record_drop_full +%v, records held %v; n2 (records flooded on by n1) record_accepted +%v, record_drop_full +%v",
		beaconsSent, delta(before1, after1, "beacon_accepted"), delta(before1, after1, "beacon_drop_table_full"),
		len(records)+1, delta(before1, after1, "record_accepted"), delta(before1, after1, "record_drop_full"), after1["records_held"],
		delta(before2, after2, "record_accepted"), delta(before2, after2, "record_drop_full"))
	// At the cap a new record either evicts one that ranks below it or is
	// dropped (overlay/evict.go); either way the cap was hit.
	if delta(before1, after1, "record_drop_full")+delta(before1, after1, "record_evicted_unreachable")+delta(before1, after1, "record_evicted_far") == 0 {
		t.Errorf("n1 never hit its record cap with %d fake records", sybils)
	}
	// record_accepted also counts the honest peers' updates (n2 republishes its
	// link quality), so the cap is judged on what n1 holds.
	if held := after1["records_held"]; held > 4096 {
		t.Errorf("n1 holds %v records, above its 4,096 cap", held)
	}
	if beaconsSent >= 4096 && delta(before1, after1, "beacon_drop_table_full") == 0 {
		t.Errorf("n1 never hit its neighbour-table cap with %d fake beacons", beaconsSent)
	}
	within2x(t, "n2→n1 while 5,000 sybils are announced", normal, underSybils)

	// Afterwards the honest pair still has its direct link and chats.
	if n1.links()[n2.id] == nil {
		t.Errorf("n1 lost its link to n2 during the attack")
	}
	id := must(n1.Send(n2.id, "after the storm")).on(n1)
	if _, err := n1.WaitEvent(15*time.Second, func(e netlab.Event) bool { return e.Name() == "delivered" && e.Str("id") == id }); err != nil {
		t.Fatalf("no delivery after the attack: %v", err)
	}
	memBound(t, attackMemBoundMiB(t, c.bin), mem, n1, n2)
}

func n1ID(t *testing.T, n *node) identity.PeerID {
	t.Helper()
	id, err := identity.ParsePeerID(n.id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
