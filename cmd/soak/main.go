// Command soak runs Parley for a bounded time on real network hosts and reports
// whether anything was lost, duplicated or leaked: 8 namespaces on one bridge, chat
// in a room and 1:1 between random pairs, one voice call held for the whole run,
// and churn (one node restarted, alternately killed with SIGKILL and quit cleanly)
// every 30 s. At the end every node's history is read back through the headless
// protocol and compared with what the senders were told was sent. Needs root.
//
//	go run ./cmd/soak -bin bin/parley -duration 10m
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"parley/headless/client"
	"parley/internal/netlab"
	"parley/internal/procstat"
)

func main() {
	bin := flag.String("bin", "", "parley binary (default: build it)")
	duration := flag.Duration("duration", 10*time.Minute, "how long traffic runs")
	nodes := flag.Int("nodes", 8, "hosts (namespaces), each running one node")
	churn := flag.Duration("churn", 30*time.Second, "a node is restarted this often (0: never)")
	rate := flag.Float64("rate", 4, "chat messages per second, over all nodes")
	drain := flag.Duration("drain", 90*time.Second, "longest wait for the last messages after traffic stops")
	logLevel := flag.String("log-level", "warn", "the nodes' --log-level")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "soak: needs root (network namespaces)")
		os.Exit(2)
	}
	if *nodes < 4 {
		fmt.Fprintln(os.Stderr, "soak: at least 4 nodes (two in the call, one stable, one churned)")
		os.Exit(2)
	}
	s := &soak{nodes: *nodes, duration: *duration, churnEvery: *churn, rate: *rate, drain: *drain, logLevel: *logLevel}
	if err := s.run(*bin); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if s.failed {
		os.Exit(1)
	}
}

// member is one host and the node currently running on it. Processes come and go
// with churn; the host, data dir and peer ID stay.
type member struct {
	name string
	host *netlab.Host
	dir  string
	args []string

	mu     sync.Mutex
	proc   *netlab.Proc
	epoch  int // incremented on every (re)start
	id     string
	up     bool
	procs  []*netlab.Proc // every process this member ran, for the event scan
	cursor map[*netlab.Proc]int
}

func (m *member) current() (*netlab.Proc, int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc, m.epoch, m.up
}

// sentMsg is one message the sender acknowledged with a "sent" event.
type sentMsg struct {
	id      string
	from    int
	to      int    // -1 for a room message
	text    string // unique, so receptions can be matched without the id
	at      time.Time
	epochs  []int // every member's epoch at send time, to tell live receptions
	pending bool  // command written, "sent" not yet seen
	req     int
}

type soak struct {
	nodes      int
	duration   time.Duration
	churnEvery time.Duration
	rate       float64
	drain      time.Duration
	logLevel   string

	lab     *netlab.Lab
	bin     string
	members []*member
	room    string

	mu       sync.Mutex
	msgs     map[int]*sentMsg // by req
	byText   map[string]*sentMsg
	received map[string]map[int]int // text → receiving member → times shown
	latency  []time.Duration        // live receptions only
	lateLat  []time.Duration        // receptions after the receiver restarted
	restarts int
	kills    int
	unshown  int
	failed   bool
	notes    []string
}

func (s *soak) note(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.notes = append(s.notes, line)
	s.mu.Unlock()
	fmt.Fprintf(os.Stderr, "%s soak: %s\n", time.Now().Format("15:04:05"), line)
}

func (s *soak) run(bin string) error {
	lab, bin, err := netlab.Setup(bin)
	if err != nil {
		return err
	}
	defer lab.Close()
	s.lab, s.bin = lab, bin
	seg, err := lab.AddSegment("lan")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s.msgs, s.byText, s.received = map[int]*sentMsg{}, map[string]*sentMsg{}, map[string]map[int]int{}
	for i := 0; i < s.nodes; i++ {
		name := fmt.Sprintf("n%d", i+1)
		h, err := lab.AddHost(name, seg)
		if err != nil {
			return err
		}
		args := []string{"--headless", "--data", filepath.Join(dir, name), "--name", name, "--log-level", s.logLevel,
			"--audio-in", "null", "--audio-out", "null"}
		if i == 0 {
			// The caller plays a tone, so the callee's playout counts real frames.
			args = []string{"--headless", "--data", filepath.Join(dir, name), "--name", name, "--log-level", s.logLevel,
				"--audio-in", "tone:440", "--audio-out", "null"}
		}
		m := &member{name: name, host: h, dir: filepath.Join(dir, name), args: args, cursor: map[*netlab.Proc]int{}}
		s.members = append(s.members, m)
		if err := s.start(m); err != nil {
			return err
		}
	}
	if err := s.waitMesh(60 * time.Second); err != nil {
		return err
	}
	if err := s.setupRoom(); err != nil {
		return err
	}
	callID, err := s.startCall()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "soak: %d nodes up, room %s, call %s; running %v\n", s.nodes, s.room, callID, s.duration)

	time.Sleep(5 * time.Second) // let the call and the room settle before the first sample
	start := s.sample()
	begin := time.Now()
	var samples []sample
	samples = append(samples, start)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); s.traffic(stop) }()
	go func() { defer wg.Done(); s.churn(stop) }()
	go func() { defer wg.Done(); s.scanLoop(stop) }()
	minute := time.NewTicker(time.Minute)
	deadline := time.After(s.duration)
loop:
	for {
		select {
		case <-minute.C:
			samples = append(samples, s.sample())
		case <-deadline:
			break loop
		}
	}
	minute.Stop()
	close(stop)
	wg.Wait()
	elapsed := time.Since(begin)
	// Every node must be up for the final count (churn may have left one down).
	for _, m := range s.members {
		if _, _, up := m.current(); !up {
			if err := s.start(m); err != nil {
				return err
			}
		}
	}
	end := s.sample()
	callOK := s.callState(callID)
	lost, dups, unacked := s.settle()
	s.report(elapsed, start, end, samples, lost, dups, unacked, callOK)
	return nil
}

// start (re)starts a member's node on its data dir and waits for it to be ready.
func (s *soak) start(m *member) error {
	p, err := m.host.Start(s.bin, m.args...)
	if err != nil {
		return err
	}
	ready, err := p.WaitEvent(20*time.Second, func(e netlab.Event) bool { return e.Name() == "ready" })
	if err != nil {
		return fmt.Errorf("%s not ready: %w\n%s", m.name, err, p.Tail())
	}
	m.mu.Lock()
	m.proc, m.id, m.up = p, ready.Str("id"), true
	m.epoch++
	m.procs = append(m.procs, p)
	m.mu.Unlock()
	return nil
}

// waitMesh waits until every node sees every other one online.
func (s *soak) waitMesh(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, m := range s.members {
		for {
			p, _, _ := m.current()
			list, err := p.Roster()
			if err != nil {
				return err
			}
			online := 0
			for _, pv := range list {
				if pv.Online {
					online++
				}
			}
			if online >= s.nodes-1 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s sees %d of %d peers online after %v", m.name, online, s.nodes-1, timeout)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return nil
}

func (s *soak) setupRoom() error {
	p0, _, _ := s.members[0].current()
	r, err := p0.Join("soak")
	if err != nil {
		return err
	}
	s.room = r.ID
	for _, m := range s.members[1:] {
		p, _, _ := m.current()
		deadline := time.Now().Add(20 * time.Second)
		for {
			list, err := p.Rooms()
			if err != nil {
				return err
			}
			known := false
			for _, rm := range list {
				if rm.ID == s.room {
					known = true
				}
			}
			if known {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s never learned the room", m.name)
			}
			time.Sleep(300 * time.Millisecond)
		}
		if _, err := p.Join(s.room); err != nil {
			return err
		}
	}
	// Every member must list all others before traffic starts, or the first room
	// messages would legitimately miss a member nobody knew had joined.
	for _, m := range s.members {
		p, _, _ := m.current()
		deadline := time.Now().Add(30 * time.Second)
		for {
			list, err := p.Rooms()
			if err != nil {
				return err
			}
			n := 0
			for _, rm := range list {
				if rm.ID == s.room {
					n = len(rm.Members)
				}
			}
			if n >= s.nodes {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s lists %d room members, want %d", m.name, n, s.nodes)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	return nil
}

// startCall has n1 call n2 and waits until both are active. n1 and n2 are never
// churned: the call is the run's long-lived media session.
func (s *soak) startCall() (string, error) {
	a, _, _ := s.members[0].current()
	b, _, _ := s.members[1].current()
	id, err := a.Call(s.members[1].id)
	if err != nil {
		return "", err
	}
	if _, err := b.WaitEventAny(15*time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("call") == id }); err != nil {
		return "", err
	}
	if err := b.Answer(id); err != nil {
		return "", err
	}
	for _, p := range []*netlab.Proc{a, b} {
		if _, err := p.WaitEventAny(20*time.Second, func(e netlab.Event) bool {
			return e.Name() == "call_state" && e.Str("call") == id && e.Str("state") == "active"
		}); err != nil {
			return "", err
		}
	}
	return id, nil
}

// churnable are the members restarted during the run: all but the two in the call
// and one stable bystander, whose memory and goroutines are tracked start to end.
func (s *soak) churnable() []*member { return s.members[3:] }

func (s *soak) traffic(stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(1, 2))
	tick := time.NewTicker(time.Duration(float64(time.Second) / s.rate))
	defer tick.Stop()
	req := 0
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		from := rng.IntN(s.nodes)
		fm := s.members[from]
		p, _, up := fm.current()
		if !up {
			continue // a node that is down sends nothing; messages to it still go out
		}
		req++
		msg := &sentMsg{from: from, to: -1, req: req, pending: true, text: fmt.Sprintf("soak %d from %s", req, fm.name)}
		cmd := map[string]any{"req": req}
		if rng.IntN(2) == 0 {
			to := rng.IntN(s.nodes - 1)
			if to >= from {
				to++
			}
			msg.to = to
			cmd["cmd"], cmd["to"], cmd["text"] = "send", s.members[to].id, msg.text
		} else {
			cmd["cmd"], cmd["room"], cmd["text"] = "say", s.room, msg.text
		}
		for _, m := range s.members {
			_, ep, _ := m.current()
			msg.epochs = append(msg.epochs, ep)
		}
		msg.at = time.Now()
		s.mu.Lock()
		s.msgs[req] = msg
		s.byText[msg.text] = msg
		s.mu.Unlock()
		if err := p.SendRaw(cmd); err != nil {
			// The node died under us (churn); the message was never acknowledged.
			continue
		}
	}
}

// churn restarts one churnable member every churnEvery, alternating SIGKILL and a
// clean quit, round-robin.
func (s *soak) churn(stop <-chan struct{}) {
	if s.churnEvery <= 0 {
		return
	}
	t := time.NewTicker(s.churnEvery)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		m := s.churnable()[i%len(s.churnable())]
		p, _, _ := m.current()
		m.mu.Lock()
		m.up = false
		m.mu.Unlock()
		s.scanProc(m, p) // take in what it said before it goes
		if i%2 == 0 {
			if err := p.Kill(); err != nil {
				s.note("kill %s: %v", m.name, err)
			}
			s.mu.Lock()
			s.kills++
			s.mu.Unlock()
		} else if err := s.quit(m, p); err != nil {
			// A node that cannot shut down is hung (the soak found a deadlock
			// this way): the run fails.
			s.note("quit %s: %v", m.name, err)
			s.mu.Lock()
			s.failed = true
			s.mu.Unlock()
		}
		s.scanProc(m, p)
		time.Sleep(2 * time.Second)
		if err := s.start(m); err != nil {
			s.note("restart %s failed: %v", m.name, err)
			s.mu.Lock()
			s.failed = true
			s.mu.Unlock()
			continue
		}
		s.mu.Lock()
		s.restarts++
		s.mu.Unlock()
	}
}

// quit asks a node to exit cleanly. One that is still running 10 s later is hung
// in shutdown: it gets SIGQUIT, so the Go runtime writes every goroutine's stack
// to its log, which is kept (copied next to the soak's temp files) for diagnosis.
func (s *soak) quit(m *member, p *netlab.Proc) error {
	_ = p.Client.Quit()
	deadline := time.Now().Add(10 * time.Second)
	for !p.Exited() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if p.Exited() {
		return nil
	}
	_ = syscall.Kill(p.PID(), syscall.SIGQUIT)
	for end := time.Now().Add(5 * time.Second); !p.Exited() && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	kept := filepath.Join(os.TempDir(), fmt.Sprintf("soak-quit-hang-%s-%d.log", m.name, time.Now().Unix()))
	if b, err := os.ReadFile(p.LogPath()); err == nil {
		_ = os.WriteFile(kept, b, 0o644)
	}
	_ = p.Kill()
	return fmt.Errorf("still running 10 s after quit; goroutine dump in %s", kept)
}

func (s *soak) scanLoop(stop <-chan struct{}) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			s.scanAll()
			return
		case <-t.C:
			s.scanAll()
		}
	}
}

func (s *soak) scanAll() {
	for _, m := range s.members {
		m.mu.Lock()
		procs := slices.Clone(m.procs)
		m.mu.Unlock()
		for _, p := range procs {
			s.scanProc(m, p)
		}
	}
}

// scanProc takes in the events a process printed since the last scan: "sent"
// replies (the acknowledgement that counts a message as sent) and receptions.
func (s *soak) scanProc(m *member, p *netlab.Proc) {
	evs := p.Events()
	m.mu.Lock()
	from := m.cursor[p]
	m.cursor[p] = len(evs)
	epoch, current := m.epoch, p == m.proc
	m.mu.Unlock()
	idx := slices.Index(s.members, m)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range evs[from:] {
		switch e.Name() {
		case "sent":
			req, ok := e["req"].(float64)
			if !ok {
				continue
			}
			if msg := s.msgs[int(req)]; msg != nil && msg.from == idx {
				msg.id, msg.pending = e.Str("id"), false
			}
		case "message", "room_message":
			msg := s.byText[e.Str("text")]
			if msg == nil {
				continue
			}
			if s.received[msg.text] == nil {
				s.received[msg.text] = map[int]int{}
			}
			s.received[msg.text][idx]++
			if s.received[msg.text][idx] > 1 {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, e.Str("time"))
			if err != nil {
				continue
			}
			// Live: the receiver ran the same process from send to reception.
			if msg.epochs[idx] == epoch && current {
				s.latency = append(s.latency, at.Sub(msg.at))
			} else {
				s.lateLat = append(s.lateLat, at.Sub(msg.at))
			}
		}
	}
}

// sample is one reading of memory and goroutines of the members never churned.
type sample struct {
	at         time.Time
	rss        []int // KiB, by member index (0 when down)
	goroutines []int
	threads    []int
}

func (s *soak) sample() sample {
	sm := sample{at: time.Now()}
	for _, m := range s.members {
		p, _, up := m.current()
		rss, thr, gor := 0, 0, 0
		if up {
			st, _ := procstat.ReadStatus(p.PID())
			rss, thr = st.RSSKiB, st.Threads
			if c, err := p.Stats(); err == nil {
				gor = int(c["go_goroutines"])
			}
		}
		sm.rss = append(sm.rss, rss)
		sm.threads = append(sm.threads, thr)
		sm.goroutines = append(sm.goroutines, gor)
	}
	return sm
}

// callState reports whether the long call is still active on both ends.
func (s *soak) callState(id string) string {
	var states []string
	for _, m := range s.members[:2] {
		p, _, _ := m.current()
		list, err := p.Calls()
		if err != nil {
			states = append(states, m.name+": "+err.Error())
			continue
		}
		st := "none"
		for _, c := range list {
			if c.Call == id {
				st = c.State
			}
		}
		ended := 0
		for _, ev := range p.Events() {
			if ev.Name() == "call_state" && ev.Str("call") == id && ev.Str("state") == "ended" {
				ended++
			}
		}
		states = append(states, fmt.Sprintf("%s %s (ended events: %d)", m.name, st, ended))
	}
	return strings.Join(states, ", ")
}

// settle waits for the outboxes to drain, then reads every history and counts
// acknowledged messages missing from an intended recipient (lost) and messages
// stored or shown more than once (duplicates).
func (s *soak) settle() (lost, dups, unacked int) {
	deadline := time.Now().Add(s.drain)
	for {
		s.scanAll()
		missing := s.missingLive()
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	s.mu.Lock()
	var acked []*sentMsg
	for _, m := range s.msgs {
		if m.pending {
			unacked++
			continue
		}
		acked = append(acked, m)
	}
	s.mu.Unlock()
	// Stored: what each node's history holds, by message id.
	stored := make([]map[string]int, s.nodes)
	for i, m := range s.members {
		stored[i] = map[string]int{}
		p, _, _ := m.current()
		for j, o := range s.members {
			if i == j {
				continue
			}
			for _, id := range history(p, "peer", o.id) {
				stored[i][id]++
			}
		}
		for _, id := range history(p, "room", s.room) {
			stored[i][id]++
		}
	}
	for _, msg := range acked {
		for i := range s.members {
			want := msg.to == i || (msg.to == -1) // room messages: everyone (the sender keeps its own)
			if i == msg.from {
				want = true // the sender's own copy
			}
			if !want {
				continue
			}
			if i != msg.from && stored[i][msg.id] > 0 && s.shownCount(msg.text, i) == 0 {
				s.unshown++ // stored, but its receiver was killed before printing the event
			}
			switch n := stored[i][msg.id]; {
			case n == 0:
				lost++
				s.note("lost: %q (id %s) missing from %s", msg.text, msg.id, s.members[i].name)
			case n > 1:
				dups++
				s.note("duplicate: %q stored %d times on %s", msg.text, n, s.members[i].name)
			}
		}
	}
	s.mu.Lock()
	for text, by := range s.received {
		for i, n := range by {
			if n > 1 {
				dups++
				s.notes = append(s.notes, fmt.Sprintf("duplicate: %q shown %d times on %s", text, n, s.members[i].name))
			}
		}
	}
	s.mu.Unlock()
	if lost > 0 || dups > 0 {
		s.failed = true
	}
	return lost, dups, unacked
}

func (s *soak) shownCount(text string, member int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received[text][member]
}

// missingLive counts acknowledged messages not yet shown to every recipient.
func (s *soak) missingLive() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	missing := 0
	for _, m := range s.msgs {
		if m.pending {
			continue
		}
		for i := range s.members {
			if i == m.from || (m.to != -1 && m.to != i) {
				continue
			}
			if s.received[m.text][i] == 0 {
				missing++
			}
		}
	}
	return missing
}

// history returns the message ids of one conversation, following the cursors.
func history(p *netlab.Proc, key, value string) []string {
	var ids []string
	before := ""
	for {
		q := client.HistoryQuery{Before: before, Limit: 500}
		if key == "room" {
			q.Room = value
		} else {
			q.Peer = value
		}
		page, err := p.Within(20 * time.Second).History(q)
		if err != nil {
			return ids
		}
		for _, mm := range page.Messages {
			ids = append(ids, mm.ID)
		}
		before = page.Next
		if before == "" {
			return ids
		}
	}
}

func (s *soak) report(elapsed time.Duration, start, end sample, samples []sample, lost, dups, unacked int, call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acked, direct, room, deliveries := 0, 0, 0, 0
	for _, m := range s.msgs {
		if m.pending {
			continue
		}
		acked++
		if m.to == -1 {
			room++
			deliveries += s.nodes - 1
		} else {
			direct++
			deliveries++
		}
	}
	shown := 0
	for _, by := range s.received {
		shown += len(by)
	}
	lat := slices.Clone(s.latency)
	slices.Sort(lat)
	late := slices.Clone(s.lateLat)
	slices.Sort(late)
	fmt.Printf("Soak: %d nodes on one bridge, %v of traffic (%s), %.1f msg/s, churn every %v\n\n",
		s.nodes, elapsed.Round(time.Second), time.Now().UTC().Format("2006-01-02"), s.rate, s.churnEvery)
	fmt.Println("| figure | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| messages sent (acknowledged by the sender's node) | %d (%d 1:1, %d room) |\n", acked, direct, room)
	fmt.Printf("| deliveries expected (1:1 + room × %d members) | %d |\n", s.nodes-1, deliveries)
	fmt.Printf("| deliveries shown to recipients | %d |\n", shown)
	fmt.Printf("| stored but never shown (receiver killed between commit and event) | %d |\n", s.unshown)
	fmt.Printf("| lost (acknowledged, missing from a recipient's history) | %d |\n", lost)
	fmt.Printf("| duplicated (stored or shown twice) | %d |\n", dups)
	fmt.Printf("| commands cut off by a kill before \"sent\" (not acknowledged) | %d |\n", unacked)
	fmt.Printf("| restarts (SIGKILL / clean quit) | %d (%d / %d) |\n", s.restarts, s.kills, s.restarts-s.kills)
	if len(lat) > 0 {
		fmt.Printf("| latency, live recipients (n=%d): p50 / p99 / max | %s / %s / %s |\n", len(lat), ms(q(lat, .5)), ms(q(lat, .99)), ms(lat[len(lat)-1]))
	}
	if len(late) > 0 {
		fmt.Printf("| latency, recipients restarted in between (n=%d): p50 / p99 | %s / %s |\n", len(late), secs(q(late, .5)), secs(q(late, .99)))
	}
	fmt.Printf("| call n1↔n2 at the end | %s |\n", call)
	fmt.Println()
	fmt.Println("Memory and goroutines of the nodes never restarted (n1, n2 in the call; n3 bystander):")
	fmt.Println()
	fmt.Println("| node | RSS start | RSS end | goroutines start | goroutines end | threads start | threads end |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for i := 0; i < 3; i++ {
		fmt.Printf("| %s | %.1f MiB | %.1f MiB | %d | %d | %d | %d |\n", s.members[i].name,
			float64(start.rss[i])/1024, float64(end.rss[i])/1024, start.goroutines[i], end.goroutines[i], start.threads[i], end.threads[i])
	}
	fmt.Println()
	fmt.Println("Per-minute samples (RSS MiB / goroutines) of n1, n2, n3:")
	fmt.Println()
	fmt.Println("| minute | n1 | n2 | n3 |")
	fmt.Println("|---|---|---|---|")
	for k, sm := range samples {
		var cells []string
		for i := 0; i < 3; i++ {
			cells = append(cells, fmt.Sprintf("%.1f / %d", float64(sm.rss[i])/1024, sm.goroutines[i]))
		}
		fmt.Printf("| %d | %s |\n", k, strings.Join(cells, " | "))
	}
	if len(s.notes) > 0 {
		fmt.Println()
		sort.Strings(s.notes)
		for i, n := range s.notes {
			if i == 20 {
				fmt.Printf("… and %d more notes\n", len(s.notes)-20)
				break
			}
			fmt.Println("note:", n)
		}
	}
	if lost > 0 || dups > 0 {
		fmt.Println("\nFAIL: messages lost or duplicated")
	}
}

func q(d []time.Duration, p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }

func ms(x time.Duration) string { return fmt.Sprintf("%.1f ms", float64(x.Microseconds())/1000) }

func secs(x time.Duration) string { return fmt.Sprintf("%.1f s", x.Seconds()) }
