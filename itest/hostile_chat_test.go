package itest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley/chat"
	"parley/identity"
	"parley/internal/hostile"
	"parley/overlay"
)

// TestHostileChatThrowawayKeys: 100 throwaway identities link to the victim from
// 13 addresses (one address may hold at most 8 links, overlay/inbound.go, so this
// is an attacker with a handful of hosts, or of IPv6 addresses on one) and, for
// 60 s, send direct sealed chat frames, each sealed by a key of its own: two thirds by keys the victim has never heard of, one third by
// 1,000 Sybil authors whose records the attacker published first (so they pass
// as known peers and their messages are stored). On ca67723 each key got a queue
// (~160 KiB, preallocated, never freed) and a share of the committer equal to an
// honest peer's. The figures: the victim's RSS grows by less
// than 64 MB, an honest neighbour's chat keeps p99 < 1 s, and no honest message is
// lost (chatLatencyWhile fails on any probe not received within 15 s).
func TestHostileChatThrowawayKeys(t *testing.T) {
	c, n1, n2, evilHost := victimPair(t)
	chatLatency(t, n2, n1, 5, 50*time.Millisecond) // warm up
	mem := map[*node]int{n1: rssKiB(t, n1.PID())}
	before := n1.counters()
	// Logged however the test ends (the code before the fix lost an honest probe
	// first): the figure to compare is n1's RSS growth.
	t.Cleanup(func() {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n1.PID())); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "VmRSS:") {
					t.Logf("n1 at the end: %s (%.1f MiB at the start)", strings.Join(strings.Fields(line), " "), float64(mem[n1])/1024)
				}
			}
		}
	})

	// The flood: 3,000 frames, each sealed by a fresh key, sent round-robin by 100
	// links at up to 50 frames a second each (5,000 a second in all), for 60 s.
	// Every third frame's key has a record.
	const links, pool, perLink, attack = 100, 3000, 50, 60 * time.Second
	frames, err := hostile.ThrowawaySealedChats(pool, n1.pubKey(), string(make([]byte, 1024)))
	if err != nil {
		t.Fatal(err)
	}
	sybils, err := hostile.Throwaway(pool / 3)
	if err != nil {
		t.Fatal(err)
	}
	var records [][]byte
	for i, k := range sybils {
		if frames[3*i], err = hostile.SealedChat(k, n1.pubKey(), chat.NewID(time.Now()), string(make([]byte, 1024))); err != nil {
			t.Fatal(err)
		}
		rec, err := hostile.SignRecord(k, uint64(time.Now().UnixMicro()), fmt.Sprint("sybil-", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, rec)
	}
	// perAddress is the victim's cap on links from one source address.
	const perAddress = 8
	var evils []*hostile.Attacker
	for h := range (links + perAddress - 1) / perAddress {
		host := evilHost
		if h > 0 {
			host = c.host(fmt.Sprint("evil", h))
		}
		evil, err := hostile.New(host.Do)
		if err != nil {
			t.Fatal(err)
		}
		evils = append(evils, evil)
	}
	keys, err := hostile.Throwaway(links)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), attack+30*time.Second)
	defer cancel()
	var up []*hostile.Link
	for i, k := range keys {
		l, err := evils[i/perAddress].Dial(ctx, n1.linkAddr(), k)
		if err != nil {
			continue // counted below
		}
		defer l.Close()
		up = append(up, l)
	}
	if len(up) < links*9/10 {
		t.Fatalf("only %d of %d attacker links came up: the flood would test less than it says", len(up), links)
	}
	// 250 records a second, as TestHostileFloodAndSybils sends them.
	for i, rec := range records {
		if err := up[0].Frame(overlay.TypeRecord, rec); err != nil {
			t.Fatal(err)
		}
		if i%25 == 24 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := up[0].Sync(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("n1 holds %v records after %d Sybil records", n1.counters()["records_held"], len(records))
	stop := make(chan struct{})
	var sent atomic.Int64
	var wg sync.WaitGroup
	for i, l := range up {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second / perLink)
			defer tick.Stop()
			for j := i; ; j += len(up) {
				select {
				case <-stop:
					return
				case <-l.Done():
					return
				case <-tick.C:
				}
				if l.Frame(chat.TypeSealed, frames[j%pool]) != nil {
					return
				}
				sent.Add(1)
			}
		}()
	}
	busy := make(chan struct{})
	go func() { time.Sleep(attack); close(busy) }()
	lat := chatLatencyWhile(t, n2, n1, 30, 200*time.Millisecond, busy)
	close(stop)
	wg.Wait()
	after := n1.counters()
	p99 := lat[min(len(lat)-1, len(lat)*99/100)]
	t.Logf("%d attacker links up of %d; %d sealed frames sent in %v; n1 chat_drop_unknown_sender +%v, chat_drop_rate +%v, chat_drop_relayed_rate +%v, chat_drop_queue_full +%v, chat_drop_queues_full +%v, chat_commits +%v, chat_backpressure +%v",
		len(up), links, sent.Load(), attack, delta(before, after, "chat_drop_unknown_sender"), delta(before, after, "chat_drop_rate"), delta(before, after, "chat_drop_relayed_rate"),
		delta(before, after, "chat_drop_queue_full"), delta(before, after, "chat_drop_queues_full"), delta(before, after, "chat_commits"), delta(before, after, "chat_backpressure"))
	t.Logf("n2→n1 under attack: %d probes, median %v, p99 %v, max %v", len(lat), median(lat).Round(100*time.Microsecond),
		p99.Round(100*time.Microsecond), slices.Max(lat).Round(100*time.Microsecond))
	if p99 >= time.Second {
		t.Errorf("honest chat p99 %v under the flood, bound 1 s", p99)
	}
	memBound(t, 64, mem, n1)
}

// TestHostileBlockedNoPath: the victim blocks the attacker's identity E; E's
// message then reaches the user through no path. E's own link is refused (the
// overlay already did that on ca67723); the others were open: a frame sealed by E
// handed to the victim over someone else's link, the same routed with an honest
// peer forged as the routed source, and E's message entrusted to an honest
// custodian (n2), which hands it over. (File offers and calls: the relay/files
// tests.)
func TestHostileBlockedNoPath(t *testing.T) {
	c := newCluster(t)
	n1 := c.start(c.host("h1"), "n1")
	n2 := c.start(c.host("h2"), "n2")
	evilHost := c.host("evil")
	n1.waitPeerUp(15*time.Second, n2)
	n2.waitPeerUp(15*time.Second, n1)
	evil, err := hostile.New(evilHost.Do)
	if err != nil {
		t.Fatal(err)
	}
	e := evil.ID // the blocked identity
	must(n1.Block(e.ID.String(), true)).on(n1)
	before := n1.counters()
	victim := n1.pubKey()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sealed := func(text string) []byte {
		t.Helper()
		env, err := hostile.SealedChat(e, victim, chat.NewID(time.Now()), text)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}

	// Direct: E's own link (refused).
	if l, err := evil.Dial(ctx, n1.linkAddr(), e); err == nil {
		l.Frame(chat.TypeMessage, hostile.ChatMessage("blocked: own link"))
		l.Close()
	}
	// Over a throwaway identity's link: sealed by E, then routed with n2 forged as
	// the source.
	tk, err := hostile.Throwaway(1)
	if err != nil {
		t.Fatal(err)
	}
	l, err := evil.Dial(ctx, n1.linkAddr(), tk[0])
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Frame(chat.TypeSealed, sealed("blocked: sealed, carried")); err != nil {
		t.Fatal(err)
	}
	n1id, n2id := n1ID(t, n1), n1ID(t, n2)
	if err := l.Frame(overlay.TypeRouted, hostile.Routed(8, n1id, n2id, chat.TypeSealed, sealed("blocked: routed, forged source"))); err != nil {
		t.Fatal(err)
	}
	// Via a custodian: E links to n2 (which has not blocked it), publishes its
	// record there and entrusts a message for n1, which n2 hands over at once.
	cl, err := evil.Dial(ctx, n2.linkAddr(), e)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rec, err := hostile.SignRecord(e, uint64(time.Now().UnixMicro()), "evil", []identity.PeerID{n2id})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Frame(overlay.TypeRecord, rec); err != nil {
		t.Fatal(err)
	}
	if err := cl.Sync(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	id := chat.NewID(time.Now())
	env, err := hostile.SealedChat(e, victim, id, "blocked: via a custodian")
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Frame(chat.TypeCustody, hostile.CustodyRequest(n1id, id, env)); err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(10 * time.Second); err != nil {
		t.Fatal(err)
	}

	// Every path either shows the message (the failure) or counts a drop.
	fromE := func() []string {
		var texts []string
		for _, ev := range n1.Events() {
			if ev.Name() == "message" && ev.Str("from") == e.ID.String() {
				texts = append(texts, ev.Str("text"))
			}
		}
		return texts
	}
	eventually(t, 30*time.Second, "n1 to drop or show all three of E's messages", func() bool {
		return len(fromE())+int(delta(before, n1.counters(), "chat_drop_blocked")) >= 3
	})
	after1, ctr2 := n1.counters(), n2.counters()
	t.Logf("n1: chat_drop_blocked +%v, chat_source_mismatch +%v, link_refused_blocked +%v; n2 (custodian): custody_held %v, custody_handed_over %v",
		delta(before, after1, "chat_drop_blocked"), delta(before, after1, "chat_source_mismatch"), delta(before, after1, "link_refused_blocked"),
		ctr2["custody_held"], ctr2["custody_handed_over"])
	if got := fromE(); len(got) > 0 {
		t.Fatalf("the blocked peer's messages reached the user: %q", got)
	}
	if ctr2["custody_handed_over"] == 0 {
		t.Fatalf("n2 never handed E's message over: the custodian path was not exercised")
	}
	// n1 told n2 to drop it, so it is not handed over again at every reconnection.
	eventually(t, 15*time.Second, "n2 to release E's message", func() bool { return n2.counters()["custody_released"] >= 1 })
}
