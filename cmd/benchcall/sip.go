package main

import (
	"fmt"
	"path/filepath"
	"time"

	"parley/internal/netlab"
)

// The SIP figures of issue 19 (-sip): a baresip phone registered to a
// Parley node h calls a Parley user a on another node, and a calls the phone;
// next to it, in the same run, the same call between two baresip instances
// (the phone's namespace and a's), no registrar. Every round starts the phone
// anew (registered, G.711 only: g711.so is its only codec module, so h
// transcodes PCMU ↔ the overlay's Opus), then:
//
//   - idle: h, a and the phone for one window, all idle (the phone registered);
//   - the phone dials sip:a@h, a answers as soon as it is rung (its headless
//     answer command, a few ms); timed at the phone from the ctrl_tcp dial
//     command: 200 OK (CALL_ESTABLISHED), first RTP received (CALL_RTPESTAB);
//     at a: its first audio packet from the phone's node (call_stats setup_ms
//     added to when a was rung). Then one window of the call, idle subtracted;
//   - a calls the phone (baresip answers at once): timed from a's call
//     command: call_state active at a (after the phone's 200 OK), a's first
//     audio packet, the phone's first RTP;
//   - the baseline: the phone's namespace dials a baresip in a's namespace
//     directly (PCMU both ways), the same events, CPU the same way.

// sipHost starts a node with the registrar on its LAN address.
func (l *lab) sipHost(name string, tone int) (*proc, string, error) {
	h, err := l.AddHost(name, l.seg)
	if err != nil {
		return nil, "", err
	}
	registrar := h.IP(l.seg) + ":5060"
	p, err := h.Start(l.bin, "--headless", "--data", filepath.Join(l.dir, name), "--name", name, "--log-level", "warn",
		"--audio-in", fmt.Sprintf("tone:%d", tone), "--audio-out", "null", "--sip", registrar)
	if err != nil {
		return nil, "", err
	}
	ready, err := p.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "ready" })
	if err != nil {
		return nil, "", err
	}
	return &proc{Proc: p, name: name, id: ready.Str("id"), host: h, seg: l.seg}, registrar, nil
}

// phoneCodecs are the phone's codec modules in each measured variant, in
// the order of its offer. Debian's baresip 1.0.0 offers opus/48000/2 first
// when its opus module is loaded; h answers with what it bridges.
var phoneCodecs = []struct {
	name    string
	modules []string
	bridged string // what h does with it
}{
	{"G.711 only (PCMU)", []string{"module g711.so"}, "h transcodes PCMU ↔ Opus"},
	// h answers Opus and, in this 1:1 call, forwards the packets both ways
	// (media/call/passthrough.go); the counters below check it did.
	{"Opus offered first, then G.711", []string{"module opus.so", "module g711.so"}, "h forwards Opus as is (passthrough)"},
}

// sipRound is one round's figures: parley per phoneCodecs variant, and the
// baseline.
type sipRound struct {
	parley  []parleySIP
	bareSIP // baseline
}

// parleySIP is one variant's calls through h.
type parleySIP struct {
	// phone → a: dial → 200 OK, → first RTP at the phone, → a's first audio.
	outOK, outPhoneRTP, outParley time.Duration
	// a → phone: call → active at a, → a's first audio, → first RTP at the phone.
	inActive, inParley, inPhoneRTP time.Duration
	// CPU added by the call: h, a, the phone.
	cpu [3]time.Duration
	// h's sip_opus_* counters over the phone's call to a: packets
	// forwarded both ways, frames decoded and encoded.
	passed, transcoded float64
}

type bareSIP struct {
	// baseline: dial → 200 OK, → first RTP at the caller, → at the callee;
	// CPU added: caller (phone's namespace), callee (a's namespace).
	bareOK, bareRTP, bareCalleeRTP time.Duration
	bareCPU                        [2]time.Duration
}

func runSIP(bin string, rounds int, window time.Duration) error {
	l, err := newLab(bin, "benchsip")
	if err != nil {
		return err
	}
	defer l.close()
	h, registrar, err := l.sipHost("h", 600)
	if err != nil {
		return err
	}
	defer h.Quit(5 * time.Second)
	a, err := l.start("a", 700)
	if err != nil {
		return err
	}
	defer a.Quit(5 * time.Second)
	hp, err := l.AddHost("p", l.seg)
	if err != nil {
		return err
	}
	if err := waitUp(a, h); err != nil {
		return err
	}
	if err := waitUp(h, a); err != nil {
		return err
	}
	if _, err := h.Request(map[string]any{"cmd": "sip_account", "user": "radio1", "password": "benchpass1"}, 5*time.Second, "ok"); err != nil {
		return err
	}
	wav := filepath.Join(l.dir, "tone.wav")
	// The phone's microphone: long enough for one call's set-up and window
	// (aufile opens the file anew for every call).
	if err := toneWAV(wav, int(2*window/time.Second)+20); err != nil {
		return err
	}
	load0 := loadavg()
	var rs []sipRound
	for i := 0; i < rounds; i++ {
		r, err := sipOnce(h, a, hp, registrar, filepath.Join(l.dir, fmt.Sprintf("round%d", i)), wav, window)
		if err != nil {
			return fmt.Errorf("round %d: %w", i+1, err)
		}
		rs = append(rs, r)
	}
	sipReport(rs, window, load0)
	return nil
}

// registered waits until h lists the account as registered and returns the
// phone's peer ID.
func registered(h *proc) (string, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		e, err := h.Request(map[string]any{"cmd": "sip_accounts"}, 5*time.Second, "sip_accounts")
		if err != nil {
			return "", err
		}
		if xs, _ := e["accounts"].([]any); len(xs) == 1 {
			acc, _ := xs[0].(map[string]any)
			if acc["registered"] == true {
				id, _ := acc["id"].(string)
				return id, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the phone never registered: %v", e)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sipOnce(h, a *proc, hp *netlab.Host, registrar, dir, wav string, window time.Duration) (sipRound, error) {
	var r sipRound
	for i, v := range phoneCodecs {
		p, err := sipThroughParley(h, a, hp, registrar, filepath.Join(dir, fmt.Sprintf("phone%d", i)), wav, append(v.modules, "module aufile.so"), window)
		if err != nil {
			return r, fmt.Errorf("%s: %w", v.name, err)
		}
		r.parley = append(r.parley, p)
	}
	var err error
	r.bareSIP, err = sipBaseline(a, hp, dir, wav, window)
	return r, err
}

func sipThroughParley(h, a *proc, hp *netlab.Host, registrar, dir, wav string, modules []string, window time.Duration) (parleySIP, error) {
	var r parleySIP
	ip := hp.IP(h.seg)
	ph, err := startBaresip(hp, ip, dir, wav, modules,
		fmt.Sprintf("<sip:radio1@%s>;auth_pass=benchpass1;regint=600;answermode=auto", registrar))
	if err != nil {
		return r, err
	}
	defer ph.stop()
	device, err := registered(h)
	if err != nil {
		return r, err
	}
	time.Sleep(time.Second) // the device node's first announcements done
	pids := []int{h.PID(), a.PID(), ph.cmd.Process.Pid}
	counters0, err := h.Stats()
	if err != nil {
		return r, err
	}
	idle, err := cpuOver(pids, window)
	if err != nil {
		return r, err
	}

	// The phone calls a.
	t0 := time.Now()
	if err := ph.do("dial", "sip:a@"+registrar); err != nil {
		return r, err
	}
	inc, err := a.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("from") == device })
	if err != nil {
		return r, fmt.Errorf("a not rung by the phone: %w", err)
	}
	id := inc.Str("call")
	if err := a.Answer(id); err != nil {
		return r, err
	}
	ok, err := ph.waitEvent("CALL_ESTABLISHED", t0, 10*time.Second)
	if err != nil {
		return r, err
	}
	rtp, err := ph.waitEvent("CALL_RTPESTAB", t0, 10*time.Second)
	if err != nil {
		return r, err
	}
	st, err := a.WaitEvent(10*time.Second, func(e netlab.Event) bool {
		return e.Name() == "call_stats" && e.Str("call") == id && e.Num("setup_ms") > 0
	})
	if err != nil {
		return r, err
	}
	r.outOK, r.outPhoneRTP = ok.Sub(t0), rtp.Sub(t0)
	r.outParley = inc.Time().Sub(t0) + time.Duration(st.Num("setup_ms")*float64(time.Millisecond))
	busy, err := cpuOver(pids, window)
	if err != nil {
		return r, err
	}
	if closedSince(ph, t0) {
		return r, fmt.Errorf("the phone's call closed during the measurement")
	}
	for i := range r.cpu {
		r.cpu[i] = busy[i].cpu - idle[i].cpu
	}
	t1 := time.Now()
	ph.do("hangup", "")
	if _, err := a.WaitEvent(10*time.Second, func(e netlab.Event) bool {
		return e.Name() == "call_state" && e.Str("call") == id && e.Str("state") == "ended"
	}); err != nil {
		return r, fmt.Errorf("a: the phone's call did not end: %w", err)
	}
	if _, err := ph.waitEvent("CALL_CLOSED", t1, 10*time.Second); err != nil {
		return r, err
	}
	// h counts the call's media once the phone's dialog is over.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c, err := h.Stats()
		if err != nil {
			return r, err
		}
		d := func(k string) float64 { return float64(c[k]) - float64(counters0[k]) }
		r.passed = d("sip_opus_passed_in") + d("sip_opus_passed_out")
		r.transcoded = d("sip_opus_decoded") + d("sip_opus_encoded")
		if d("sip_rtp_in") > 0 || time.Now().After(deadline) {
			break
		}
	}

	// a calls the phone.
	t0 = time.Now()
	id, err = a.Call(device)
	if err != nil {
		return r, err
	}
	act, err := a.WaitEvent(10*time.Second, func(e netlab.Event) bool {
		return e.Name() == "call_state" && e.Str("call") == id && e.Str("state") == "active"
	})
	if err != nil {
		return r, err
	}
	st, err = a.WaitEvent(10*time.Second, func(e netlab.Event) bool {
		return e.Name() == "call_stats" && e.Str("call") == id && e.Num("setup_ms") > 0
	})
	if err != nil {
		return r, err
	}
	rtp, err = ph.waitEvent("CALL_RTPESTAB", t0, 10*time.Second)
	if err != nil {
		return r, err
	}
	// setup_ms runs from a's invite (sent within the call command).
	r.inActive, r.inParley, r.inPhoneRTP = act.Time().Sub(t0), time.Duration(st.Num("setup_ms")*float64(time.Millisecond)), rtp.Sub(t0)
	if err := hangup(a, id, nil); err != nil {
		return r, err
	}
	return r, nil
}

// sipBaseline is the same call, baresip to baresip.
func sipBaseline(a *proc, hp *netlab.Host, dir, wav string, window time.Duration) (bareSIP, error) {
	var r bareSIP
	ip := hp.IP(a.seg)
	pa, err := startBaresip(hp, ip, filepath.Join(dir, "bare-caller"), wav, []string{"module g711.so", "module aufile.so"},
		fmt.Sprintf("<sip:caller@%s>;regint=0;answermode=auto", ip))
	if err != nil {
		return r, err
	}
	defer pa.stop()
	aip := a.host.IP(a.seg)
	pb, err := startBaresip(a.host, aip, filepath.Join(dir, "bare-callee"), wav, []string{"module g711.so", "module aufile.so"},
		fmt.Sprintf("<sip:callee@%s>;regint=0;answermode=auto", aip))
	if err != nil {
		return r, err
	}
	defer pb.stop()
	time.Sleep(time.Second)
	bpids := []int{pa.cmd.Process.Pid, pb.cmd.Process.Pid}
	idle, err := cpuOver(bpids, window)
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	if err := pa.do("dial", fmt.Sprintf("sip:callee@%s:5060", aip)); err != nil {
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
	brtp, err := pb.waitEvent("CALL_RTPESTAB", t0, 10*time.Second)
	if err != nil {
		return r, err
	}
	r.bareOK, r.bareRTP, r.bareCalleeRTP = ok.Sub(t0), rtp.Sub(t0), brtp.Sub(t0)
	busy, err := cpuOver(bpids, window)
	if err != nil {
		return r, err
	}
	if closedSince(pa, t0) {
		return r, fmt.Errorf("baresip: the call closed during the measurement")
	}
	for i := range r.bareCPU {
		r.bareCPU[i] = busy[i].cpu - idle[i].cpu
	}
	pa.do("hangup", "")
	return r, nil
}

func closedSince(ph *phone, t time.Time) bool {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	for _, e := range ph.events {
		if e.kind == "CALL_CLOSED" && !e.at.Before(t) {
			return true
		}
	}
	return false
}

func sipReport(rs []sipRound, window time.Duration, load0 string) {
	col := func(f func(sipRound) time.Duration, cpu bool) string {
		var xs []float64
		for _, r := range rs {
			if cpu {
				xs = append(xs, 100*f(r).Seconds()/window.Seconds())
			} else {
				xs = append(xs, float64(f(r).Microseconds())/1000)
			}
		}
		if cpu {
			return mmm(xs, "%.2f") + " %"
		}
		return mmm(xs, "%.1f") + " ms"
	}
	fmt.Printf("SIP phone (baresip) registered to h, calling a Parley user a on another node; %d rounds of %s windows, idle subtracted; min / median / max. Load average before: %s, after: %s\n\n",
		len(rs), window, load0, loadavg())
	fmt.Println("| CPU added by the call (share of one core) | host h (registrar, phone's node, bridge) | Parley user a | phone (baresip) | h's Opus packets forwarded / frames transcoded, last round |")
	fmt.Println("|---|---|---|---|---|")
	for v, pc := range phoneCodecs {
		cpu := func(i int) string {
			return col(func(r sipRound) time.Duration { return r.parley[v].cpu[i] }, true)
		}
		last := rs[len(rs)-1].parley[v]
		fmt.Printf("| phone → h → a, phone: %s; %s | %s | %s | %s | %.0f / %.0f |\n", pc.name, pc.bridged, cpu(0), cpu(1), cpu(2), last.passed, last.transcoded)
	}
	fmt.Printf("| baseline: baresip → baresip (a's namespace), PCMU direct | — | %s (callee) | %s (caller) | |\n\n",
		col(func(r sipRound) time.Duration { return r.bareCPU[1] }, true),
		col(func(r sipRound) time.Duration { return r.bareCPU[0] }, true))
	fmt.Println("| set-up | to 200 OK | to first RTP at the phone | to the Parley side's first audio packet |")
	fmt.Println("|---|---|---|---|")
	for v, pc := range phoneCodecs {
		d := func(f func(parleySIP) time.Duration) string {
			return col(func(r sipRound) time.Duration { return f(r.parley[v]) }, false)
		}
		fmt.Printf("| phone (%s) dials sip:a@h (dial command; a answers when rung) | %s | %s | %s |\n", pc.name,
			d(func(p parleySIP) time.Duration { return p.outOK }), d(func(p parleySIP) time.Duration { return p.outPhoneRTP }),
			d(func(p parleySIP) time.Duration { return p.outParley }))
		fmt.Printf("| a calls the phone (%s) (call command; the phone answers at once; 200 OK = a's call active) | %s | %s | %s |\n", pc.name,
			d(func(p parleySIP) time.Duration { return p.inActive }), d(func(p parleySIP) time.Duration { return p.inPhoneRTP }),
			d(func(p parleySIP) time.Duration { return p.inParley }))
	}
	fmt.Printf("| baseline: baresip dials baresip (the callee's first RTP in the last column) | %s | %s | %s |\n\n",
		col(func(r sipRound) time.Duration { return r.bareOK }, false),
		col(func(r sipRound) time.Duration { return r.bareRTP }, false),
		col(func(r sipRound) time.Duration { return r.bareCalleeRTP }, false))
}
