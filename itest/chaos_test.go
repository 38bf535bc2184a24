package itest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"parley/internal/netlab"
	parleynode "parley/node"
	"parley/store"
)

// checkStore opens a stopped node's database read-only and runs bbolt's
// consistency check (every page reachable once, freelist sound), then opens it
// the way the node does (with migrations). Either failing means a crash or a
// failed write left the file corrupt.
func checkStore(t *testing.T, dir string) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("bbolt open %s: %v", dir, err)
	}
	var problems []string
	err = db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			problems = append(problems, e.Error())
		}
		return nil
	})
	db.Close()
	if err != nil || len(problems) > 0 {
		t.Fatalf("bbolt check of %s: %v %v", dir, err, problems)
	}
	s, err := store.Open(dir)
	if err != nil {
		t.Fatalf("store open %s: %v", dir, err)
	}
	s.Close()
}

// fleet tracks the nodes of a chaos test across restarts: the current process per
// name and every process each name ever ran (their events are the record of what
// was sent and shown).
type fleet struct {
	t     *testing.T
	c     *cluster
	mu    sync.Mutex
	cur   map[string]*node
	all   map[string][]*node
	hosts map[string]*netlab.Host
	extra map[string][]string
}

func newFleet(t *testing.T, c *cluster) *fleet {
	return &fleet{t: t, c: c, cur: map[string]*node{}, all: map[string][]*node{}, hosts: map[string]*netlab.Host{}, extra: map[string][]string{}}
}

func (f *fleet) start(name string, extra ...string) *node {
	f.t.Helper()
	f.mu.Lock()
	h := f.hosts[name]
	if h == nil {
		f.mu.Unlock()
		h = f.c.host("h-" + name)
		f.mu.Lock()
		f.hosts[name] = h
		f.extra[name] = extra
	}
	extra = f.extra[name]
	f.mu.Unlock()
	n := f.c.start(h, name, extra...)
	f.mu.Lock()
	f.cur[name] = n
	f.all[name] = append(f.all[name], n)
	f.mu.Unlock()
	return n
}

func (f *fleet) get(name string) *node {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur[name]
}

// crash kills a node with SIGKILL, checks its store and starts it again.
func (f *fleet) crash(name string) *node {
	f.t.Helper()
	n := f.get(name)
	f.mu.Lock()
	delete(f.cur, name) // no traffic from it while it is down
	f.mu.Unlock()
	if err := n.Kill(); err != nil {
		f.t.Fatal(err)
	}
	checkStore(f.t, f.c.dirs[name])
	return f.start(name)
}

// events returns every event of every process name ran.
func (f *fleet) events(name string) []netlab.Event {
	f.mu.Lock()
	procs := append([]*node(nil), f.all[name]...)
	f.mu.Unlock()
	var out []netlab.Event
	for _, p := range procs {
		out = append(out, p.Events()...)
	}
	return out
}

// ledger is what the chaos traffic sent: every message a node acknowledged with
// "sent", by id, with its sender and intended recipients.
type ledger struct {
	from map[string]string   // id → sender name
	to   map[string][]string // id → recipient names
}

// collect reads the ledger off the senders' events: a "sent" reply echoes the req
// it answers, which the traffic generator recorded with the recipients.
func (f *fleet) collect(names []string, reqs map[string][]string) ledger {
	l := ledger{from: map[string]string{}, to: map[string][]string{}}
	for _, name := range names {
		for _, e := range f.events(name) {
			if e.Name() != "sent" {
				continue
			}
			req, _ := e["req"].(string)
			if to, ok := reqs[req]; ok && strings.HasPrefix(req, name+"/") {
				l.from[e.Str("id")] = name
				l.to[e.Str("id")] = to
			}
		}
	}
	return l
}

// verifyExactlyOnce waits until every acknowledged message is in each intended
// recipient's history, then asserts none is missing (lost) or held or shown twice
// (duplicate) anywhere.
func (f *fleet) verifyExactlyOnce(l ledger, room string, timeout time.Duration) (lost, dups int) {
	f.t.Helper()
	shown := func(name string) map[string]int {
		m := map[string]int{}
		for _, e := range f.events(name) {
			if e.Name() == "message" || e.Name() == "room_message" {
				m[e.Str("id")]++
			}
		}
		return m
	}
	began := time.Now()
	deadline := began.Add(timeout)
	// Arrived means stored in the recipient's history. Usually it was also shown,
	// but a recipient killed between its commit and writing the event to stdout
	// stores a message without showing it (its restart sees a duplicate): that is
	// counted separately, not as a loss.
	unshown := 0
	for {
		missing := map[string][]string{} // recipient → ids not shown
		for id, tos := range l.to {
			for _, to := range tos {
				if shown(to)[id] == 0 {
					missing[to] = append(missing[to], id)
				}
			}
		}
		left := 0
		unshown = 0
		for to, ids := range missing {
			stored := f.storedIDs(to)
			for _, id := range ids {
				if stored[id] == 0 {
					left++
				} else {
					unshown++
				}
			}
		}
		if left == 0 || time.Now().After(deadline) {
			f.t.Logf("after the traffic: every delivery stored after %v (%d stored but not shown, %d missing)",
				time.Since(began).Round(10*time.Millisecond), unshown, left)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	names := map[string]bool{}
	for _, tos := range l.to {
		for _, to := range tos {
			names[to] = true
		}
	}
	for _, from := range l.from {
		names[from] = true
	}
	for name := range names {
		n := f.get(name)
		stored := map[string]int{}
		for other := range names {
			if other != name {
				for _, m := range n.history("peer", f.get(other).id) {
					stored[m.ID]++
				}
			}
		}
		if room != "" {
			for _, m := range n.history("room", room) {
				stored[m.ID]++
			}
		}
		seen := shown(name)
		for id, tos := range l.to {
			want := l.from[id] == name
			for _, to := range tos {
				want = want || to == name
			}
			if !want {
				continue
			}
			switch {
			case stored[id] == 0:
				lost++
				f.t.Errorf("lost: message %s (from %s) missing from %s's history", id, l.from[id], name)
			case stored[id] > 1:
				dups++
				f.t.Errorf("duplicate: message %s stored %d times on %s", id, stored[id], name)
			}
			if l.from[id] != name && seen[id] > 1 {
				dups++
				f.t.Errorf("duplicate: message %s shown %d times on %s", id, seen[id], name)
			}
		}
	}
	return lost, dups
}

// storedIDs counts the message ids in every conversation name holds with the
// fleet's other nodes and in every room it knows.
func (f *fleet) storedIDs(name string) map[string]int {
	f.t.Helper()
	n := f.get(name)
	out := map[string]int{}
	if n == nil {
		return out
	}
	f.mu.Lock()
	var others []string
	for o, p := range f.cur {
		if o != name {
			others = append(others, p.id)
		}
	}
	f.mu.Unlock()
	for _, id := range others {
		for _, m := range n.history("peer", id) {
			out[m.ID]++
		}
	}
	for _, r := range must(n.Rooms()).on(n) {
		for _, m := range n.history("room", r.ID) {
			out[m.ID]++
		}
	}
	return out
}

// joinRoom has first create a room and every other node join it, and waits until
// all list all as members.
func joinRoom(t *testing.T, name string, first *node, others ...*node) string {
	t.Helper()
	room := must(first.Join(name)).on(first).ID
	members := func(n *node) int {
		if r := n.room(room); r != nil {
			return len(r.Members)
		}
		return 0
	}
	for _, n := range others {
		eventually(t, 15*time.Second, n.name+" to learn the room", func() bool { return members(n) > 0 })
		must(n.Join(room)).on(n)
	}
	all := append([]*node{first}, others...)
	for _, n := range all {
		eventually(t, 15*time.Second, n.name+" to list every member", func() bool { return members(n) == len(all) })
	}
	return room
}

// TestChaosKillDuringTraffic: three nodes chat 1:1 and in a room, 25 messages a
// second, while each of them in turn is killed with SIGKILL and restarted on the
// same data dir. After each kill the database passes bbolt's check; at the end
// every message a sender acknowledged ("sent") is in every recipient's history
// exactly once and was shown exactly once.
func TestChaosKillDuringTraffic(t *testing.T) {
	c := newCluster(t)
	f := newFleet(t, c)
	names := []string{"a", "b", "c"}
	for _, n := range names {
		f.start(n)
	}
	for _, n := range names {
		f.get(n).waitPeerUp(15*time.Second, f.get("a"), f.get("b"), f.get("c"))
	}
	room := joinRoom(t, "chaos", f.get("a"), f.get("b"), f.get("c"))
	ids := map[string]string{}
	for _, n := range names {
		ids[n] = f.get(n).id
	}

	var mu sync.Mutex
	reqs := map[string][]string{} // req → recipients
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(7, 7))
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			from := names[rng.IntN(len(names))]
			n := f.get(from)
			if n == nil {
				continue // down right now
			}
			req := fmt.Sprintf("%s/%d", from, k)
			var cmd map[string]any
			var to []string
			if rng.IntN(2) == 0 {
				peer := names[(slicesIndex(names, from)+1+rng.IntN(2))%3]
				cmd = map[string]any{"cmd": "send", "to": ids[peer], "text": "chaos " + req, "req": req}
				to = []string{peer}
			} else {
				cmd = map[string]any{"cmd": "say", "room": room, "text": "chaos " + req, "req": req}
				for _, o := range names {
					if o != from {
						to = append(to, o)
					}
				}
			}
			mu.Lock()
			reqs[req] = to
			mu.Unlock()
			_ = n.SendRaw(cmd) // a node killed under us simply never answers
		}
	}()
	for _, victim := range []string{"b", "a", "c", "b"} {
		time.Sleep(2500 * time.Millisecond)
		f.crash(victim)
	}
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()

	mu.Lock()
	l := f.collect(names, reqs)
	asked := len(reqs)
	mu.Unlock()
	lost, dups := f.verifyExactlyOnce(l, room, 60*time.Second)
	t.Logf("kill -9 during traffic: %d commands, %d acknowledged messages (%d deliveries), 4 kills; lost %d, duplicates %d",
		asked, len(l.to), deliveries(l), lost, dups)
	if len(l.to) < 100 {
		t.Errorf("only %d messages acknowledged: the traffic did not run", len(l.to))
	}
	for _, n := range names {
		if err := f.get(n).Quit(10 * time.Second); err != nil {
			t.Errorf("%s quit: %v", n, err)
		}
		checkStore(t, c.dirs[n])
	}
}

func deliveries(l ledger) int {
	k := 0
	for _, to := range l.to {
		k += len(to)
	}
	return k
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestChaosPartitionHeal: c's cable is pulled while a and c keep writing to each
// other and to the room. Both sides notice the partition (peer_down "lost"), queue
// what they send, and when the cable is back every message arrives exactly once.
func TestChaosPartitionHeal(t *testing.T) {
	c := newCluster(t)
	f := newFleet(t, c)
	for _, n := range []string{"a", "b", "c"} {
		f.start(n)
	}
	a, b, cc := f.get("a"), f.get("b"), f.get("c")
	for _, n := range []*node{a, b, cc} {
		n.waitPeerUp(15*time.Second, a, b, cc)
	}
	room := joinRoom(t, "partition", a, b, cc)
	reqs := map[string][]string{}
	send := func(from *node, to string, k int) {
		req := fmt.Sprintf("%s/%d", from.name, k)
		if to == "" {
			reqs[req] = []string{}
			for _, o := range []string{"a", "b", "c"} {
				if o != from.name {
					reqs[req] = append(reqs[req], o)
				}
			}
			from.request(map[string]any{"cmd": "say", "room": room, "text": "p " + req, "req": req}, "sent")
			return
		}
		reqs[req] = []string{to}
		from.request(map[string]any{"cmd": "send", "to": f.get(to).id, "text": "p " + req, "req": req}, "sent")
	}
	k := 0
	for ; k < 5; k++ {
		send(a, "c", k)
		send(cc, "a", k)
	}

	cut := time.Now()
	if err := cc.host.SetLink(c.seg, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.host.SetLink(c.seg, true) })
	for _, n := range []*node{a, cc} {
		other := cc
		if n == cc {
			other = a
		}
		if _, err := n.WaitEvent(15*time.Second, func(e netlab.Event) bool {
			return e.Name() == "peer_down" && e.PeerID() == other.id && e.Str("reason") == "lost"
		}); err != nil {
			t.Fatalf("%s did not notice the partition: %v", n.name, err)
		}
	}
	detect := time.Since(cut)
	for ; k < 15; k++ {
		send(a, "c", k)
		send(cc, "a", k)
		send(b, "", k) // the room: a gets it now, c later
	}
	time.Sleep(time.Second)
	healed := time.Now()
	if err := cc.host.SetLink(c.seg, true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.WaitEventAny(30*time.Second, func(e netlab.Event) bool {
		at, err := time.Parse(time.RFC3339Nano, e.Str("time"))
		return e.Name() == "peer_up" && e.PeerID() == cc.id && err == nil && at.After(healed)
	}); err != nil {
		t.Fatalf("a never saw c again after the heal: %v", err)
	}
	rejoin := time.Since(healed)
	l := f.collect([]string{"a", "b", "c"}, reqs)
	lost, dups := f.verifyExactlyOnce(l, room, 30*time.Second)
	t.Logf("partition: noticed after %v, peer back %v after the heal; %d acknowledged messages (%d deliveries), lost %d, duplicates %d",
		detect.Round(10*time.Millisecond), rejoin.Round(10*time.Millisecond), len(l.to), deliveries(l), lost, dups)
	if len(l.to) != 40 { // 5 each way before, 10 each way and 10 to the room during
		t.Errorf("%d acknowledged messages, want 40", len(l.to))
	}
}

// TestChaosRestartMidCall: the callee of an active call is killed with SIGKILL.
// The caller's call must not hang: it ends (or, once the callee is back,
// recovers) within bounded time, the restarted callee holds no stale call, and a
// new call between the two works.
func TestChaosRestartMidCall(t *testing.T) {
	c := newCluster(t)
	f := newFleet(t, c)
	a := f.start("a", "--audio-in", "tone:440", "--audio-out", "null")
	b := f.start("b", "--audio-in", "null", "--audio-out", "null")
	a.waitPeerUp(15*time.Second, b)
	b.waitPeerUp(15*time.Second, a)
	id := ringAndAnswer(t, a, b)
	waitStats(t, b, 15*time.Second, "audio flowing", func(e netlab.Event) bool { return e.Str("call") == id && e.Num("frames_played") >= 50 })

	killed := time.Now()
	if err := b.Kill(); err != nil {
		t.Fatal(err)
	}
	ended, err := a.WaitEventAny(20*time.Second, func(e netlab.Event) bool {
		return e.Name() == "call_state" && e.Str("call") == id && e.Str("state") == "ended"
	})
	outcome := ""
	if err == nil {
		outcome = fmt.Sprintf("ended (%s) %v after the kill", ended.Str("reason"), time.Since(killed).Round(10*time.Millisecond))
		checkStore(t, c.dirs["b"])
		b = f.start("b")
	} else {
		// Not ended: only acceptable if it recovers once the callee is back.
		checkStore(t, c.dirs["b"])
		b = f.start("b")
		after := func(e netlab.Event) bool {
			at, err := time.Parse(time.RFC3339Nano, e.Str("time"))
			return err == nil && at.After(killed)
		}
		e, err := a.WaitEventAny(30*time.Second, func(e netlab.Event) bool {
			return e.Name() == "call_state" && e.Str("call") == id && (e.Str("state") == "ended" || e.Str("state") == "active") && after(e)
		})
		if err != nil {
			t.Fatalf("call stuck: neither ended nor recovered 50 s after the callee was killed\n%s", a.Tail())
		}
		outcome = "recovered (" + e.Str("state") + ") after the callee restarted"
		if e.Str("state") == "active" {
			a.ok(a.Hangup(id))
		}
	}
	t.Logf("callee killed mid-call: caller's call %s", outcome)
	calls := func(n *node) []parleynode.CallInfo { return must(n.Calls()).on(n) }
	eventually(t, 10*time.Second, "no call left on the caller", func() bool { return len(calls(a)) == 0 })
	if l := calls(b); len(l) != 0 {
		t.Fatalf("restarted callee holds calls: %v", l)
	}
	a.waitPeerUp(20*time.Second, b)
	eventually(t, 20*time.Second, "a to see b online again", func() bool { p := a.roster()[b.id]; return p != nil && p.Online })
	id2 := ringAndAnswer(t, a, b)
	a.ok(a.Hangup(id2))
	for _, n := range []*node{a, b} {
		if _, err := n.WaitEventAny(10*time.Second, func(e netlab.Event) bool {
			return e.Name() == "call_state" && e.Str("call") == id2 && e.Str("state") == "ended"
		}); err != nil {
			t.Fatalf("%s: second call did not end after hangup: %v", n.name, err)
		}
	}
}

// TestChaosDiskFull: a's data dir is a small tmpfs, filled up while a chats. Sends
// fail with a clear "no space left on device" error and the node keeps running;
// a message to a waits at the sender (a could not commit it, so never acked it).
// Once space is freed everything goes through, and the database passes bbolt's
// check and reopens with every acknowledged message exactly once.
func TestChaosDiskFull(t *testing.T) {
	c := newCluster(t)
	f := newFleet(t, c)
	mnt := filepath.Join(t.TempDir(), "a-data")
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		// The node must be gone before the mount can go; lab.Close runs later.
		if n := f.get("a"); n != nil {
			n.Kill()
		}
		if err := syscall.Unmount(mnt, 0); err != nil {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})
	c.dirs["a"] = mnt
	a := f.start("a")
	b := f.start("b")
	a.waitPeerUp(15*time.Second, b)
	b.waitPeerUp(15*time.Second, a)

	reqs := map[string][]string{}
	say := func(from *node, to *node, k int, text string) error {
		req := fmt.Sprintf("%s/%d", from.name, k)
		_, err := from.Request(map[string]any{"cmd": "send", "to": to.id, "text": text, "req": req}, 10*time.Second, "sent")
		if err == nil {
			reqs[req] = []string{to.name}
		}
		return err
	}
	for k := 0; k < 5; k++ {
		if err := say(a, b, k, fmt.Sprintf("before %d", k)); err != nil {
			t.Fatal(err)
		}
	}
	// Fill the disk.
	filler := filepath.Join(mnt, "filler")
	fill, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := fill.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling: %v", err)
			}
			break
		}
	}
	fill.Close()
	// Large messages until a commit needs a page the disk cannot give (bbolt may
	// reuse free pages for a while). Bounded: 30 KiB × 200 is past any slack.
	big := strings.Repeat("x", 30<<10)
	var failure error
	k := 5
	for ; k < 205 && failure == nil; k++ {
		failure = say(a, b, k, fmt.Sprintf("%d %s", k, big))
	}
	if failure == nil {
		t.Fatalf("200 large messages committed on a full disk")
	}
	if !strings.Contains(failure.Error(), "no space left on device") {
		t.Errorf("the error does not say what is wrong: %v", failure)
	}
	t.Logf("on the full disk %d large messages still committed (bbolt reused free pages), then a said: %v", k-6, failure)
	// b's large message needs pages a cannot get: a cannot commit it, so it must
	// not acknowledge it (b keeps it in its outbox and retries).
	fromB := b.request(map[string]any{"cmd": "send", "to": a.id, "text": "while a's disk is full " + big, "req": "b/full"}, "sent").Str("id")
	time.Sleep(2 * time.Second)
	for _, e := range b.Events() {
		if e.Name() == "delivered" && e.Str("id") == fromB {
			t.Fatalf("b's message was acknowledged although a could not store it")
		}
	}
	if a.Exited() {
		t.Fatalf("a died on a full disk:\n%s", a.Tail())
	}
	if ctr := a.counters(); ctr["chat_commit_failed"] == 0 {
		t.Errorf("a did not count its failed commits: %v", ctr["chat_commit_failed"])
	}

	// Free the space: everything goes through.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	reqs["b/full"] = []string{"a"}
	if _, err := b.WaitEvent(20*time.Second, func(e netlab.Event) bool { return e.Name() == "delivered" && e.Str("id") == fromB }); err != nil {
		t.Fatalf("b's message not delivered after space was freed: %v", err)
	}
	if err := say(a, b, k, "after"); err != nil {
		t.Fatalf("a cannot send after space was freed: %v", err)
	}
	if err := a.Quit(10 * time.Second); err != nil {
		t.Fatalf("a quit: %v", err)
	}
	checkStore(t, mnt)
	f.start("a")
	l := f.collect([]string{"a", "b"}, reqs)
	lost, dups := f.verifyExactlyOnce(l, "", 20*time.Second)
	t.Logf("disk full: %d acknowledged messages checked after restart; lost %d, duplicates %d", len(l.to), lost, dups)
}

// TestRoomMessageRightAfterRestart: a node that restarts knows its rooms'
// members from its roster at once. A message said into a room before any other
// member is back reaches them when they return (found by the kill -9 chaos test:
// a node restarted under traffic said into the room before it had heard any
// member's record, and its message, acknowledged, went to nobody).
func TestRoomMessageRightAfterRestart(t *testing.T) {
	c := newCluster(t)
	f := newFleet(t, c)
	a, b := f.start("a"), f.start("b")
	a.waitPeerUp(15*time.Second, b)
	b.waitPeerUp(15*time.Second, a)
	room := joinRoom(t, "after-restart", a, b)
	time.Sleep(500 * time.Millisecond) // both rosters hold the other's newest record

	// b goes away; a is killed and comes back while b is still away, and says
	// something into the room straight after its start.
	if err := b.Kill(); err != nil {
		t.Fatal(err)
	}
	f.crash("a")
	a = f.get("a")
	id := must(a.Say(room, "anyone there?")).on(a)
	if id == "" {
		t.Fatalf("say answered no id")
	}
	b = f.start("b")
	if _, err := b.WaitEventAny(30*time.Second, func(e netlab.Event) bool {
		return e.Name() == "room_message" && e.Str("id") == id
	}); err != nil {
		t.Fatalf("b never got the message a said into the room right after restarting: %v\n%s", err, a.Tail())
	}
}
