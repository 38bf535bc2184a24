// Package chatload drives chat traffic and churn through real nodes in a netlab and
// accounts for every message: what each sender acknowledged as "sent", what each
// recipient showed and, at the end, what each recipient's history holds. cmd/soak
// and cmd/benchhall share it so both count lost and duplicated messages the same way.
package chatload

import (
	"fmt"
	"sync"
	"time"

	"parley/internal/netlab"
)

// Member is one host and the node currently running on it. Processes come and go
// with churn; the host, data dir, arguments and peer ID stay.
type Member struct {
	Name string
	Host *netlab.Host
	Args []string

	mu     sync.Mutex
	proc   *netlab.Proc
	epoch  int // incremented on every (re)start
	id     string
	up     bool
	procs  []*netlab.Proc // every process this member ran, for the event scan
	cursor map[*netlab.Proc]int
}

// NewMember names a host and the arguments its node is (re)started with.
func NewMember(name string, host *netlab.Host, args []string) *Member {
	return &Member{Name: name, Host: host, Args: args, cursor: map[*netlab.Proc]int{}}
}

// Current is the running process, its epoch and whether it is up.
func (m *Member) Current() (*netlab.Proc, int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc, m.epoch, m.up
}

// ID is the node's peer ID (stable across restarts: same data dir).
func (m *Member) ID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id
}

// Start (re)starts the member's node and waits up to timeout for its ready event,
// which it returns.
func (m *Member) Start(bin string, timeout time.Duration) (netlab.Event, error) {
	p, err := m.Host.Start(bin, m.Args...)
	if err != nil {
		return nil, err
	}
	ready, err := p.WaitEvent(timeout, func(e netlab.Event) bool { return e.Name() == "ready" })
	if err != nil {
		_ = p.Kill()
		return nil, fmt.Errorf("%s not ready: %w\n%s", m.Name, err, p.Tail())
	}
	m.mu.Lock()
	m.proc, m.id, m.up = p, ready.Str("id"), true
	m.epoch++
	m.procs = append(m.procs, p)
	m.mu.Unlock()
	return ready, nil
}

func (m *Member) setDown() {
	m.mu.Lock()
	m.up = false
	m.mu.Unlock()
}
