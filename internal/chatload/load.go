package chatload

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"parley/internal/netlab"
)

// Load is one run of chat and churn over a set of members. Fill the exported
// fields, SetupRoom, then Run until stop is closed, then Settle.
type Load struct {
	Bin     string
	Members []*Member
	// RoomMembers are indices into Members of the room's members; room messages
	// are said by one of them and expected at every other.
	RoomMembers []int
	Rate        float64       // chat messages per second over all nodes, half 1:1, half room
	ChurnEvery  time.Duration // one churnable member restarted this often (0: never)
	Churnable   []*Member     // restarted round-robin, alternately SIGKILL and a clean quit
	// DirectToRunning picks 1:1 recipients among running nodes only (the hall's
	// load); otherwise a message may go to a node that is down and wait in the
	// sender's outbox (the soak's).
	DirectToRunning bool
	ReadyTimeout    time.Duration // for restarts
	Drain           time.Duration // longest wait for the last messages after traffic stops
	Seed            uint64
	Log             string // prefix of progress lines on stderr

	Room string // set by SetupRoom

	mu       sync.Mutex
	msgs     map[int]*sentMsg // by req
	byText   map[string]*sentMsg
	received map[string]map[int]int // text → receiving member → times shown
	latency  []time.Duration        // live receptions only
	lateLat  []time.Duration        // receptions after the receiver restarted
	restarts int
	kills    int
	failed   bool
	notes    []string
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

func (l *Load) init() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.msgs == nil {
		l.msgs, l.byText, l.received = map[int]*sentMsg{}, map[string]*sentMsg{}, map[string]map[int]int{}
	}
}

// Note records a line for the report and prints it as progress.
func (l *Load) Note(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	l.mu.Lock()
	l.notes = append(l.notes, line)
	l.mu.Unlock()
	fmt.Fprintf(os.Stderr, "%s %s: %s\n", time.Now().Format("15:04:05"), l.Log, line)
}

// Fail marks the run failed (a hung quit, a restart that never came up).
func (l *Load) Fail() {
	l.mu.Lock()
	l.failed = true
	l.mu.Unlock()
}

// Run drives traffic, churn and the event scan until stop is closed.
func (l *Load) Run(stop <-chan struct{}) {
	l.init()
	var wg sync.WaitGroup
	wg.Go(func() { l.traffic(stop) })
	wg.Go(func() { l.churn(stop) })
	wg.Go(func() { l.scanLoop(stop) })
	wg.Wait()
}

func (l *Load) inRoom(i int) bool { return slices.Contains(l.RoomMembers, i) }

func (l *Load) traffic(stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(l.Seed, 2))
	tick := time.NewTicker(time.Duration(float64(time.Second) / l.Rate))
	defer tick.Stop()
	req := 0
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		msg := &sentMsg{to: -1, pending: true}
		cmd := map[string]any{}
		if rng.IntN(2) == 0 {
			msg.from = rng.IntN(len(l.Members))
			msg.to = l.pickOther(rng, msg.from)
			if msg.to < 0 {
				continue
			}
			cmd["cmd"], cmd["to"] = "send", l.Members[msg.to].ID()
		} else {
			msg.from = l.RoomMembers[rng.IntN(len(l.RoomMembers))]
			cmd["cmd"], cmd["room"] = "say", l.Room
		}
		fm := l.Members[msg.from]
		p, _, up := fm.Current()
		if !up {
			continue // a node that is down sends nothing; messages to it still go out
		}
		req++
		msg.req, msg.text = req, fmt.Sprintf("%s %d from %s", l.Log, req, fm.Name)
		cmd["req"], cmd["text"] = req, msg.text
		for _, m := range l.Members {
			_, ep, _ := m.Current()
			msg.epochs = append(msg.epochs, ep)
		}
		msg.at = time.Now()
		l.mu.Lock()
		l.msgs[req] = msg
		l.byText[msg.text] = msg
		l.mu.Unlock()
		// An error means the node died under us (churn): never acknowledged.
		_ = p.SendRaw(cmd)
	}
}

// pickOther is a random member other than from (running, with DirectToRunning),
// or -1 when there is none.
func (l *Load) pickOther(rng *rand.Rand, from int) int {
	for range 20 {
		to := rng.IntN(len(l.Members) - 1)
		if to >= from {
			to++
		}
		if !l.DirectToRunning {
			return to
		}
		if _, _, up := l.Members[to].Current(); up {
			return to
		}
	}
	return -1
}

// churn restarts one churnable member every ChurnEvery, alternating SIGKILL and a
// clean quit, round-robin, each on its own data dir.
func (l *Load) churn(stop <-chan struct{}) {
	if l.ChurnEvery <= 0 || len(l.Churnable) == 0 {
		return
	}
	t := time.NewTicker(l.ChurnEvery)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		select {
		case <-stop: // both were ready: stopping wins, no restart after the end
			return
		default:
		}
		m := l.Churnable[i%len(l.Churnable)]
		p, _, _ := m.Current()
		m.setDown()
		l.scanProc(m, p) // take in what it said before it goes
		if i%2 == 0 {
			if err := p.Kill(); err != nil {
				l.Note("kill %s: %v", m.Name, err)
			}
			l.mu.Lock()
			l.kills++
			l.mu.Unlock()
		} else if err := l.quit(m, p); err != nil {
			// A node that cannot shut down is hung (the soak found a deadlock
			// this way): the run fails.
			l.Note("quit %s: %v", m.Name, err)
			l.Fail()
		}
		l.scanProc(m, p)
		time.Sleep(2 * time.Second)
		if _, err := m.Start(l.Bin, l.ReadyTimeout); err != nil {
			l.Note("restart %s failed: %v", m.Name, err)
			l.Fail()
			continue
		}
		l.mu.Lock()
		l.restarts++
		l.mu.Unlock()
	}
}

// quit asks a node to exit cleanly. One that is still running 10 s later is hung
// in shutdown: it gets SIGQUIT, so the Go runtime writes every goroutine's stack
// to its log, which is kept (copied to the temp dir) for diagnosis.
func (l *Load) quit(m *Member, p *netlab.Proc) error {
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
	kept := filepath.Join(os.TempDir(), fmt.Sprintf("%s-quit-hang-%s-%d.log", l.Log, m.Name, time.Now().Unix()))
	if b, err := os.ReadFile(p.LogPath()); err == nil {
		_ = os.WriteFile(kept, b, 0o644)
	}
	_ = p.Kill()
	return fmt.Errorf("still running 10 s after quit; goroutine dump in %s", kept)
}

// RestartDown starts every member churn left down, so the final count reads every
// history.
func (l *Load) RestartDown() error {
	for _, m := range l.Members {
		if _, _, up := m.Current(); !up {
			if _, err := m.Start(l.Bin, l.ReadyTimeout); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *Load) scanLoop(stop <-chan struct{}) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			l.scanAll()
			return
		case <-t.C:
			l.scanAll()
		}
	}
}

func (l *Load) scanAll() {
	for _, m := range l.Members {
		m.mu.Lock()
		procs := slices.Clone(m.procs)
		m.mu.Unlock()
		for _, p := range procs {
			l.scanProc(m, p)
		}
	}
}

// scanProc takes in the events a process printed since the last scan: "sent"
// replies (the acknowledgement that counts a message as sent) and receptions.
func (l *Load) scanProc(m *Member, p *netlab.Proc) {
	evs := p.Events()
	m.mu.Lock()
	from := m.cursor[p]
	m.cursor[p] = len(evs)
	epoch, current := m.epoch, p == m.proc
	m.mu.Unlock()
	idx := slices.Index(l.Members, m)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range evs[from:] {
		switch e.Name() {
		case "sent":
			req, ok := e["req"].(float64)
			if !ok {
				continue
			}
			if msg := l.msgs[int(req)]; msg != nil && msg.from == idx {
				msg.id, msg.pending = e.Str("id"), false
			}
		case "message", "room_message":
			msg := l.byText[e.Str("text")]
			if msg == nil {
				continue
			}
			if l.received[msg.text] == nil {
				l.received[msg.text] = map[int]int{}
			}
			l.received[msg.text][idx]++
			if l.received[msg.text][idx] > 1 {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, e.Str("time"))
			if err != nil {
				continue
			}
			// Live: the receiver ran the same process from send to reception.
			if msg.epochs[idx] == epoch && current {
				l.latency = append(l.latency, at.Sub(msg.at))
			} else {
				l.lateLat = append(l.lateLat, at.Sub(msg.at))
			}
		}
	}
}
