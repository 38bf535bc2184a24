package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"parley/internal/netlab"
	"parley/internal/procstat"
)

// The same 1:1 call made by what a user would otherwise run: two baresip
// instances (Debian's) in the same two namespaces as the Parley nodes, calling
// each other directly (no registrar), Opus as Parley sends it (24 kbit/s mono,
// complexity 7, in-band FEC and DTX on: media/opus DefaultComplexity and
// media/call's encoder options), audio from a WAV file (aufile) and decoded
// audio written to /dev/null (aufile as player), with SRTP (SDES, the srtp
// module, mandatory) and without.

// phone is one baresip process driven through ctrl_tcp (netstring JSON).
type phone struct {
	cmd *exec.Cmd
	dir string
	ctl net.Conn
	ip  string

	mu     sync.Mutex
	events []phoneEvent
	seen   chan struct{}
	exited chan struct{} // closed once the process has been waited for
}

type phoneEvent struct {
	at   time.Time
	kind string
}

// toneWAV writes secs seconds of a 440 Hz sine, 48 kHz mono 16-bit: the
// baresip microphone, the same signal as Parley's tone:440 source.
func toneWAV(path string, secs int) error {
	const rate = 48000
	n := rate * secs
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], rate)
	binary.LittleEndian.PutUint32(b[28:], 2*rate)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i := 0; i < n; i++ {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(v))
	}
	return os.WriteFile(path, b, 0o644)
}

func startPhone(p *proc, ip, dir, wav string, srtp bool) (*phone, error) {
	modules := []string{"module opus.so", "module aufile.so"}
	account := fmt.Sprintf("<sip:%s@%s>;regint=0;answermode=auto", p.name, ip)
	if srtp {
		modules = append(modules, "module srtp.so")
		account += ";mediaenc=srtp-mand"
	}
	return startBaresip(p.host, ip, dir, wav, modules, account)
}

// startBaresip runs baresip in h's namespace with the given codec modules
// (their order is the order of its SDP offer) and one account line; its
// microphone is wav, its speaker /dev/null.
func startBaresip(h *netlab.Host, ip, dir, wav string, modules []string, account string) (*phone, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	config := strings.Join(append(append([]string{
		"poll_method epoll",
		"sip_listen " + ip + ":5060",
		"module_path /usr/lib/baresip/modules",
	}, modules...),
		"module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
		"ctrl_tcp_listen 127.0.0.1:4444",
		"audio_source aufile,"+wav, "ausrc_srate 48000", "ausrc_channels 1",
		"audio_player aufile,/dev/null", "auplay_srate 48000", "auplay_channels 1",
		"opus_bitrate 24000", "opus_stereo no", "opus_sprop_stereo no",
		"opus_complexity 7", "opus_inbandfec yes", "opus_dtx yes", "opus_application voip",
	), "\n") + "\n"
	for name, body := range map[string]string{"config": config, "accounts": account + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			return nil, err
		}
	}
	ph := &phone{dir: dir, ip: ip, seen: make(chan struct{}, 1), exited: make(chan struct{})}
	log, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		return nil, err
	}
	ph.cmd = h.Command(context.Background(), "baresip", "-f", dir)
	ph.cmd.Stdout, ph.cmd.Stderr = log, log
	if err := ph.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { ph.cmd.Wait(); log.Close(); close(ph.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for ph.ctl == nil {
		err := h.Do(func() error {
			c, err := net.DialTimeout("tcp", "127.0.0.1:4444", time.Second)
			ph.ctl = c
			return err
		})
		if err != nil {
			if time.Now().After(deadline) {
				ph.stop()
				b, _ := os.ReadFile(filepath.Join(dir, "log"))
				return nil, fmt.Errorf("baresip's ctrl_tcp: %v\n%s", err, b)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	go ph.read()
	return ph, nil
}

// read collects ctrl_tcp events ("N:{json},") with their arrival time.
func (ph *phone) read() {
	r := bufio.NewReader(ph.ctl)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenStr, ":")))
		if err != nil || n < 0 || n > 1<<20 {
			return
		}
		buf := make([]byte, n+1)
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		at := time.Now()
		var m struct {
			Event bool   `json:"event"`
			Type  string `json:"type"`
		}
		if json.Unmarshal(buf[:n], &m) == nil && m.Event {
			ph.mu.Lock()
			ph.events = append(ph.events, phoneEvent{at, m.Type})
			ph.mu.Unlock()
			select {
			case ph.seen <- struct{}{}:
			default:
			}
		}
	}
}

// waitEvent is the first event of kind at or after since.
func (ph *phone) waitEvent(kind string, since time.Time, timeout time.Duration) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		ph.mu.Lock()
		for _, e := range ph.events {
			if e.kind == kind && !e.at.Before(since) {
				ph.mu.Unlock()
				return e.at, nil
			}
		}
		ph.mu.Unlock()
		select {
		case <-ph.seen:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			b, _ := os.ReadFile(filepath.Join(ph.dir, "log"))
			return time.Time{}, fmt.Errorf("baresip: no %s within %s\n%s", kind, timeout, b[max(0, len(b)-3000):])
		}
	}
}

func (ph *phone) do(command, params string) error {
	b, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": "bench"})
	_, err := fmt.Fprintf(ph.ctl, "%d:%s,", len(b), b)
	return err
}

func (ph *phone) stop() {
	if ph.ctl != nil {
		ph.do("quit", "")
		ph.ctl.Close()
	}
	select {
	case <-ph.exited:
	case <-time.After(3 * time.Second):
		ph.cmd.Process.Kill()
		<-ph.exited
	}
}

// bareCall is one measured baresip call: set-up times at the caller and each
// side's CPU over window, idle subtracted.
type bareCall struct {
	toOK, toRTP time.Duration
	added       [2]time.Duration
	// switches: context switches per second the call added (all threads,
	// voluntary and not): the wake-ups that cost this VM dear. threads: the
	// process's threads during the call.
	switches [2]float64
	threads  [2]int
}

func baresipCall(a, b *proc, dir, wav string, srtp bool, window time.Duration) (bareCall, error) {
	var r bareCall
	pa, err := startPhone(a, a.host.IP(a.seg), filepath.Join(dir, "a"), wav, srtp)
	if err != nil {
		return r, err
	}
	defer pa.stop()
	pb, err := startPhone(b, b.host.IP(b.seg), filepath.Join(dir, "b"), wav, srtp)
	if err != nil {
		return r, err
	}
	defer pb.stop()
	pids := []int{pa.cmd.Process.Pid, pb.cmd.Process.Pid}
	// Let both finish starting (module loading, first timers) so the idle
	// window is idle, as the Parley nodes' is.
	time.Sleep(time.Second)
	idle, err := cpuOver(pids, window)
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	if err := pa.do("dial", fmt.Sprintf("sip:%s@%s:5060", b.name, pb.ip)); err != nil {
		return r, err
	}
	ok, err := pa.waitEvent("CALL_ESTABLISHED", t0, 10*time.Second)
	if err != nil {
		return r, err
	}
	rtp, err := pa.waitEvent("CALL_RTPESTAB", t0, 10*time.Second)
	if err != nil {
		return r, err
	}
	r.toOK, r.toRTP = ok.Sub(t0), rtp.Sub(t0)
	if _, err := pb.waitEvent("CALL_RTPESTAB", t0, 10*time.Second); err != nil {
		return r, err
	}
	busy, err := cpuOver(pids, window)
	if err != nil {
		return r, err
	}
	// Still in the call at the end of the window (not ended early by the
	// file running out or an error)?
	pa.mu.Lock()
	for _, e := range pa.events {
		if e.kind == "CALL_CLOSED" {
			pa.mu.Unlock()
			return r, fmt.Errorf("baresip: the call closed during the measurement")
		}
	}
	pa.mu.Unlock()
	pa.do("hangup", "")
	r.fill(idle, busy, window)
	return r, nil
}

// procUse is what a process used over a window.
type procUse struct {
	cpu      time.Duration
	switches int64 // context switches of its threads alive at the end
	threads  int
}

func cpuOver(pids []int, window time.Duration) ([]procUse, error) {
	before := make([]procUse, len(pids))
	for i, pid := range pids {
		c, err := procstat.CPU(pid, false)
		if err != nil {
			return nil, err
		}
		sw, n := ctxSwitches(pid)
		before[i] = procUse{c, sw, n}
	}
	time.Sleep(window)
	out := make([]procUse, len(pids))
	for i, pid := range pids {
		c, err := procstat.CPU(pid, false)
		if err != nil {
			return nil, err
		}
		sw, n := ctxSwitches(pid)
		out[i] = procUse{c - before[i].cpu, sw - before[i].switches, n}
	}
	return out, nil
}

// ctxSwitches sums voluntary and involuntary context switches over the
// process's threads (/proc/PID/task/*/status) and counts the threads.
func ctxSwitches(pid int) (int64, int) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				sum += n
			}
		}
	}
	return sum, len(tasks)
}

// fill sets r's CPU and wake-ups from an idle and a busy window.
func (r *bareCall) fill(idle, busy []procUse, window time.Duration) {
	for i := range r.added {
		r.added[i] = busy[i].cpu - idle[i].cpu
		r.switches[i] = float64(busy[i].switches-idle[i].switches) / window.Seconds()
		r.threads[i] = busy[i].threads
	}
}

// parleyCall is one Parley call measured the same way: CPU over window with
// the idle of the same window length subtracted, and the caller's set-up:
// call command → call_state active → its first audio packet.
func parleyCall(a, b *proc, window time.Duration) (bareCall, error) {
	var r bareCall
	idle, err := cpuOver([]int{a.PID(), b.PID()}, window)
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	id, err := place(a, []*proc{b})
	if err != nil {
		return r, err
	}
	act, err := a.WaitEvent(10*time.Second, func(e netlab.Event) bool {
		return e.Name() == "call_state" && e.Str("call") == id && e.Str("state") == "active"
	})
	if err != nil {
		return r, err
	}
	st, err := a.WaitEvent(10*time.Second, func(e netlab.Event) bool {
		return e.Name() == "call_stats" && e.Str("call") == id && e.Num("setup_ms") > 0
	})
	if err != nil {
		return r, err
	}
	r.toOK = act.Time().Sub(t0)
	// setup_ms runs from a's invite (sent within the call command) to a's
	// first audio packet.
	r.toRTP = time.Duration(st.Num("setup_ms") * float64(time.Millisecond))
	if _, err := b.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "call_stats" && e.Str("call") == id }); err != nil {
		return r, err
	}
	busy, err := cpuOver([]int{a.PID(), b.PID()}, window)
	if err != nil {
		return r, err
	}
	if err := hangup(a, id, []*proc{b}); err != nil {
		return r, err
	}
	r.fill(idle, busy, window)
	return r, nil
}

// compareBaresip runs pairs rounds of: a Parley call, a baresip call with
// SRTP, one without; each ratio is taken within a round.
func compareBaresip(a, b *proc, dir string, window time.Duration, pairs int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	wav := filepath.Join(dir, "tone.wav")
	// Long enough for the idle window, the set-up and the call window.
	if err := toneWAV(wav, int(3*window/time.Second)+20); err != nil {
		return err
	}
	load0 := loadavg()
	var parley, srtp, plain []bareCall
	for i := 0; i < pairs; i++ {
		p, err := parleyCall(a, b, window)
		if err != nil {
			return fmt.Errorf("parley call: %w", err)
		}
		s, err := baresipCall(a, b, filepath.Join(dir, fmt.Sprintf("srtp%d", i)), wav, true, window)
		if err != nil {
			return fmt.Errorf("baresip with SRTP: %w", err)
		}
		n, err := baresipCall(a, b, filepath.Join(dir, fmt.Sprintf("plain%d", i)), wav, false, window)
		if err != nil {
			return fmt.Errorf("baresip without SRTP: %w", err)
		}
		parley, srtp, plain = append(parley, p), append(srtp, s), append(plain, n)
	}
	fmt.Printf("1:1 call next to baresip (Opus 24 kbit/s mono, complexity 7, FEC and DTX on; tone in, null out), %d rounds of %s windows, idle subtracted; min / median / max. Load average before: %s, after: %s\n\n",
		pairs, window, load0, loadavg())
	fmt.Println("| program | caller (a) CPU | callee (b) CPU |")
	fmt.Println("|---|---|---|")
	cpuRow := func(name string, cs []bareCall) {
		col := func(i int) string {
			var xs []float64
			for _, c := range cs {
				xs = append(xs, 100*c.added[i].Seconds()/window.Seconds())
			}
			return mmm(xs, "%.2f") + " %"
		}
		fmt.Printf("| %s | %s | %s |\n", name, col(0), col(1))
	}
	cpuRow("Parley (DTLS-SRTP over its own links)", parley)
	cpuRow("baresip, SRTP (SDES)", srtp)
	cpuRow("baresip, no SRTP", plain)
	ratio := func(name string, den []bareCall, goal string) {
		col := func(i int) string {
			var xs []float64
			for k := range parley {
				xs = append(xs, parley[k].added[i].Seconds()/den[k].added[i].Seconds())
			}
			return mmm(xs, "%.2f×")
		}
		fmt.Printf("| Parley ÷ %s, per round %s | %s | %s |\n", name, goal, col(0), col(1))
	}
	ratio("baresip with SRTP", srtp, "(goal ≤ 1.3× each end)")
	ratio("baresip without SRTP", plain, "")
	fmt.Println()
	fmt.Println("| program | context switches/s added by the call, caller | callee | threads in the call, caller / callee |")
	fmt.Println("|---|---|---|---|")
	swRow := func(name string, cs []bareCall) {
		col := func(i int) string {
			var xs []float64
			for _, c := range cs {
				xs = append(xs, c.switches[i])
			}
			return mmm(xs, "%.0f")
		}
		last := cs[len(cs)-1]
		fmt.Printf("| %s | %s | %s | %d / %d |\n", name, col(0), col(1), last.threads[0], last.threads[1])
	}
	swRow("Parley", parley)
	swRow("baresip, SRTP", srtp)
	swRow("baresip, no SRTP", plain)
	fmt.Println()
	fmt.Println("| set-up at the caller | to connected | to first audio |")
	fmt.Println("|---|---|---|")
	setRow := func(name string, cs []bareCall) {
		var ok, rtp []float64
		for _, c := range cs {
			ok = append(ok, float64(c.toOK.Microseconds())/1000)
			rtp = append(rtp, float64(c.toRTP.Microseconds())/1000)
		}
		fmt.Printf("| %s | %s ms | %s ms |\n", name, mmm(ok, "%.1f"), mmm(rtp, "%.1f"))
	}
	setRow("Parley: call → call_state active → first audio packet", parley)
	setRow("baresip SRTP: dial → 200 OK (CALL_ESTABLISHED) → first RTP (CALL_RTPESTAB)", srtp)
	setRow("baresip no SRTP: the same", plain)
	fmt.Println()
	return nil
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func mmm(xs []float64, format string) string {
	s := slices.Clone(xs)
	slices.Sort(s)
	return fmt.Sprintf(format+" / "+format+" / "+format, s[0], s[len(s)/2], s[len(s)-1])
}
