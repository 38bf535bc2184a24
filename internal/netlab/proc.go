package netlab

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"parley/headless/client"
)

const (
	stderrTailLines = 200
	tailEvents      = 20
	// drainGrace bounds how long output is still read after the process
	// exited, in case something else inherited its stdout/stderr.
	drainGrace = 2 * time.Second
)

// Proc is a process running inside a host namespace, driven over JSON lines
// on stdin/stdout.
//
// Every event is kept for the life of the Proc. WaitEvent and Request consume
// events: each event is returned by them at most once, and events that did
// not match stay available to later calls, so waiting for A then B works
// whichever order they arrived in. WaitEventAny and Events look at the whole
// history without consuming.
//
// The embedded Client sends typed commands (p.Send(to, text), p.Join(room),
// …) and takes their answers by "req"; those answers are kept in the history
// already consumed, so WaitEvent never returns them. SendRaw and Request stay
// for hand-made command lines.
type Proc struct {
	*client.Client

	name    string // host/binary, for messages
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	logPath string

	sendMu sync.Mutex

	// killMu orders Kill against reaping: the process-group signal is only
	// sent while the leader is not yet reaped, so its pid (= pgid) cannot
	// have been reused by an unrelated process.
	killMu  sync.Mutex
	reaping bool

	mu       sync.Mutex
	events   []Event
	consumed []bool
	stderr   []string // last stderrTailLines lines
	changed  chan struct{}
	waitErr  error
	done     chan struct{} // closed once exited and output drained
}

// Start runs bin inside the host namespace (`ip netns exec NS bin args...`,
// which execs bin in place, so PID is bin's pid). stdin stays open for Send;
// stdout is parsed as JSON-lines events; stderr goes to LogPath and its last
// lines are kept for Tail. The lab kills the process on Close.
func (h *Host) Start(bin string, args ...string) (*Proc, error) {
	if strings.Contains(bin, "/") {
		// Fail here rather than as a mysterious early exit of `ip netns exec`.
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("netlab: %s: start: %w", h.Name, err)
		}
	}
	l := h.lab
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errors.New("netlab: lab is closed")
	}
	l.nextProc++
	p := &Proc{
		name:    h.Name + "/" + filepath.Base(bin),
		logPath: filepath.Join(l.dir, fmt.Sprintf("%d%s-%s.log", l.nextProc, nsSuffix(h.Name), filepath.Base(bin))),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if err := p.start(h.NS, bin, args); err != nil {
		return nil, fmt.Errorf("netlab: %s: start %s: %w", h.Name, bin, err)
	}
	l.procs = append(l.procs, p)
	return p, nil
}

func (p *Proc) start(ns, bin string, args []string) error {
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		logFile.Close()
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		logFile.Close()
		outR.Close()
		outW.Close()
		return err
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	// Own process group so Kill also gets anything the binary forks;
	// Pdeathsig so nothing outlives a crashed test process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Our own pipes (not StdoutPipe) so Wait does not close them under the
	// readers while output is still buffered.
	cmd.Stdout, cmd.Stderr = outW, errW
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	outW.Close()
	errW.Close()
	if err != nil {
		logFile.Close()
		outR.Close()
		errR.Close()
		return err
	}
	p.cmd, p.stdin = cmd, stdin
	p.Client = client.New(p.name, stdin)

	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); p.readEvents(outR) }()
	go func() { defer readers.Done(); p.readStderr(errR, logFile) }()
	go p.waitExit(outR, errR, logFile, &readers)
	return nil
}

func (p *Proc) readEvents(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var ev Event
		err := json.Unmarshal([]byte(line), &ev)
		if err == nil && ev == nil {
			err = errors.New("not a JSON object")
		}
		if err != nil {
			ev = Event{"event": InvalidEvent, "raw": line, "error": err.Error()}
		}
		answer := client.IsAnswer([]byte(line))
		p.mu.Lock()
		p.events = append(p.events, ev)
		p.consumed = append(p.consumed, answer)
		p.notifyLocked()
		p.mu.Unlock()
		if answer {
			p.Deliver([]byte(line))
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		p.mu.Lock()
		p.events = append(p.events, Event{"event": InvalidEvent, "error": "reading stdout: " + err.Error()})
		p.consumed = append(p.consumed, false)
		p.notifyLocked()
		p.mu.Unlock()
	}
	// Keep the pipe drained so the process never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, r)
}

func (p *Proc) readStderr(r io.Reader, log io.Writer) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			_, _ = io.WriteString(log, line)
			if !strings.HasSuffix(line, "\n") {
				_, _ = io.WriteString(log, "\n")
			}
			p.mu.Lock()
			p.stderr = append(p.stderr, strings.TrimRight(line, "\n"))
			if n := len(p.stderr); n > 2*stderrTailLines {
				p.stderr = append([]string(nil), p.stderr[n-stderrTailLines:]...)
			}
			p.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (p *Proc) waitExit(outR, errR, logFile *os.File, readers *sync.WaitGroup) {
	pid := p.cmd.Process.Pid
	// Wait for the exit without reaping (WNOWAIT): while the zombie exists
	// its pid cannot be reused, so killing its process group is still safe.
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	p.killMu.Lock()
	// Leftover children in the group would keep the namespace busy and the
	// output pipes open.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	p.reaping = true
	p.killMu.Unlock()
	err := p.cmd.Wait()

	deadline := time.Now().Add(drainGrace)
	_ = outR.SetReadDeadline(deadline)
	_ = errR.SetReadDeadline(deadline)
	readers.Wait()
	outR.Close()
	errR.Close()
	logFile.Close()

	p.mu.Lock()
	p.waitErr = err
	// Under p.mu and before the wake-up, so a woken waiter sees done.
	close(p.done)
	p.notifyLocked()
	p.mu.Unlock()
	p.Close(fmt.Errorf("%s exited (%v); log %s; stderr ends:\n%s", p.name, err, p.logPath, p.lastStderr(5)))
}

// notifyLocked wakes every waiter; they re-check state under p.mu.
func (p *Proc) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// PID is the process id of the binary itself.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// LogPath is the file collecting the process's stderr.
func (p *Proc) LogPath() string { return p.logPath }

// SendRaw writes cmd as one JSON line to the process's stdin: for hand-made
// commands (a req of the test's own, a malformed field). Typed commands go
// through the embedded Client.
func (p *Proc) SendRaw(cmd map[string]any) error {
	b, err := json.Marshal(cmd)
	if err != nil {
		return fmt.Errorf("netlab: %s: send: %w", p.name, err)
	}
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("netlab: %s: send %s: %w", p.name, b, err)
	}
	return nil
}

// WaitEvent returns the earliest not yet consumed event (already received or
// arriving within timeout) for which match returns true, and consumes it. A
// nil match accepts any event. It fails early if the process exits without a
// match. match runs without locks held but must not block.
func (p *Proc) WaitEvent(timeout time.Duration, match func(Event) bool) (Event, error) {
	return p.wait(timeout, 0, true, match)
}

// WaitEventAny is like WaitEvent but searches the whole history, consumed or
// not, and consumes nothing: "has this ever happened (or will it soon)?".
func (p *Proc) WaitEventAny(timeout time.Duration, match func(Event) bool) (Event, error) {
	return p.wait(timeout, 0, false, match)
}

// Events is a snapshot of every event received so far, in order.
func (p *Proc) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// Request sends cmd and waits for the first unconsumed event named
// eventName, or "error", that arrives after the send; the event is consumed.
// An "error" event is returned together with a non-nil error.
func (p *Proc) Request(cmd map[string]any, timeout time.Duration, eventName string) (Event, error) {
	p.mu.Lock()
	from := len(p.events) // the answer cannot precede the question
	p.mu.Unlock()
	if err := p.SendRaw(cmd); err != nil {
		return nil, err
	}
	ev, err := p.wait(timeout, from, true, func(e Event) bool {
		n := e.Name()
		return n == eventName || n == "error"
	})
	if err != nil {
		return nil, fmt.Errorf("netlab: request %v: %w", cmd["cmd"], err)
	}
	if ev.Name() == "error" && eventName != "error" {
		return ev, fmt.Errorf("netlab: %s: request %v: error event: %s", p.name, cmd["cmd"], ev)
	}
	return ev, nil
}

func (p *Proc) wait(timeout time.Duration, from int, consume bool, match func(Event) bool) (Event, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		p.mu.Lock()
		batch := p.events[from:len(p.events):len(p.events)]
		ch := p.changed
		exited := p.isDone()
		p.mu.Unlock()

		// Events are never modified after append, so the batch can be
		// matched without the lock.
		for i, ev := range batch {
			if match != nil && !match(ev) {
				continue
			}
			if !consume {
				return ev, nil
			}
			p.mu.Lock()
			taken := p.consumed[from+i]
			p.consumed[from+i] = true
			p.mu.Unlock()
			if !taken {
				return ev, nil
			}
		}
		// A non-matching event will not match later either.
		from += len(batch)
		if exited {
			return nil, fmt.Errorf("netlab: %s exited (%v) without a matching event; log %s; stderr ends:\n%s",
				p.name, p.exitErr(), p.logPath, p.lastStderr(5))
		}
		select {
		case <-ch:
		case <-timer.C:
			return nil, fmt.Errorf("netlab: %s: no matching event within %v; log %s", p.name, timeout, p.logPath)
		}
	}
}

func (p *Proc) isDone() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Exited reports whether the process has exited (and its output was read).
func (p *Proc) Exited() bool { return p.isDone() }

// Wait waits for the process to exit and returns its exit error.
func (p *Proc) Wait() error {
	<-p.done
	return p.exitErr()
}

func (p *Proc) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitErr
}

// Kill sends SIGKILL to the process and its process group, and waits for it
// to be gone. Killing an exited process is not an error.
func (p *Proc) Kill() error {
	p.killMu.Lock()
	if !p.reaping {
		if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			p.killMu.Unlock()
			return fmt.Errorf("netlab: %s: kill: %w", p.name, err)
		}
	}
	p.killMu.Unlock()
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("netlab: %s: still running 10s after SIGKILL", p.name)
	}
}

// Quit sends {"cmd":"quit"} and waits up to timeout for a clean exit, killing
// the process after that. It returns the exit error, or an error if the
// process had to be killed.
func (p *Proc) Quit(timeout time.Duration) error {
	if !p.isDone() {
		// A failed send means stdin is closed: the process is exiting anyway.
		_ = p.Client.Quit()
	}
	select {
	case <-p.done:
		return p.exitErr()
	case <-time.After(timeout):
		if err := p.Kill(); err != nil {
			return err
		}
		return fmt.Errorf("netlab: %s: did not exit within %v of quit; killed", p.name, timeout)
	}
}

func (p *Proc) lastStderr(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := p.stderr
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Tail describes the process for failure messages: exit state, the last
// stderr lines and the last events.
func (p *Proc) Tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	state := "running"
	if p.isDone() {
		state = fmt.Sprintf("exited: %v", p.waitErr)
		if p.waitErr == nil {
			state = "exited: ok"
		}
	}
	fmt.Fprintf(&b, "--- %s (pid %d, %s, log %s) ---\n", p.name, p.cmd.Process.Pid, state, p.logPath)
	lines := p.stderr
	if len(lines) > stderrTailLines {
		lines = lines[len(lines)-stderrTailLines:]
	}
	fmt.Fprintf(&b, "stderr (last %d lines):\n", len(lines))
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	evs := p.events
	if len(evs) > tailEvents {
		evs = evs[len(evs)-tailEvents:]
	}
	fmt.Fprintf(&b, "events (last %d of %d):\n", len(evs), len(p.events))
	for _, e := range evs {
		b.WriteString("  " + e.String() + "\n")
	}
	return b.String()
}
