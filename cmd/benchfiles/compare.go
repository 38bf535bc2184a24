package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// One file, four ways, between the same namespaces in the same run: Parley,
// scp, Syncthing and the plain-TCP ceiling, into RAM (m, tmpfs) and onto disk
// (d). A round sends one fresh file (new random bytes, so no tool can reuse
// blocks from an earlier round) with every tool in turn; each ratio is taken
// within a round, and the table gives min / median / max over the rounds.

type sample struct {
	el       time.Duration
	cpuSend  time.Duration
	cpuRecv  time.Duration
	extraEl  time.Duration // Parley: send_file → file_offer (hashing the file for the offer)
	extraCPU time.Duration
}

type tool int

const (
	tParley tool = iota
	tScp
	tSyncthing
	tTCP
	nTools
)

var toolNames = [nTools]string{
	"Parley send_file (accept → file_done)",
	"OpenSSH scp (default cipher; process wall time)",
	"Syncthing (file appears → peer has it)",
	"plain TCP ceiling (sendfile → 1 MiB reads → file, synced)",
}

// target is one receiving namespace and where each tool writes there.
type target struct {
	label string
	p     *proc
	dir   string // receive folder for scp and plain TCP; Syncthing gets dir/st
	sshd  *sshd
	st    *syncthing
	stDir string // the sender's Syncthing folder shared with this target
	rows  [][nTools]sample
}

// settleAge is files.racyMargin (2 s) and a little.
const settleAge = 2500 * time.Millisecond

func freshFile(path string, n int, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1})
	buf := make([]byte, 1<<20)
	for left := n; left > 0; left -= len(buf) {
		r.Read(buf)
		if _, err := f.Write(buf[:min(left, len(buf))]); err != nil {
			return err
		}
	}
	return f.Sync()
}

func (b *bench) compare(a *proc, targets []*target, size, rounds int) error {
	work := filepath.Join(b.dir, "compare")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	key := filepath.Join(work, "client_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	// Syncthing: one instance on the sender, one on each receiver.
	sa, err := newSyncthing(a.host, filepath.Join(work, "st-a"))
	if err != nil {
		return err
	}
	peers := map[*syncthing]string{}
	var aFolders []stFolder
	for i, t := range targets {
		ip := t.p.host.IP(b.seg)
		if t.sshd, err = startSSHD(t.p.host, ip, filepath.Join(work, "sshd-"+t.p.id[:6]), key+".pub"); err != nil {
			return err
		}
		defer t.sshd.stop()
		if t.st, err = newSyncthing(t.p.host, filepath.Join(work, fmt.Sprintf("st-%d", i))); err != nil {
			return err
		}
		folder := fmt.Sprintf("f%d", i)
		t.stDir = filepath.Join(work, "st-a-"+folder)
		aFolders = append(aFolders, stFolder{id: folder, path: t.stDir, devices: []*syncthing{sa, t.st}})
		if err := t.st.configure(ip, map[*syncthing]string{sa: a.host.IP(b.seg)},
			[]stFolder{{id: folder, path: filepath.Join(t.dir, "st"), devices: []*syncthing{sa, t.st}}}); err != nil {
			return err
		}
		peers[t.st] = ip
	}
	if err := sa.configure(a.host.IP(b.seg), peers, aFolders); err != nil {
		return err
	}
	for _, s := range append([]*syncthing{sa}, targets[0].st, targets[1].st) {
		if err := s.start(); err != nil {
			return err
		}
		defer s.stop()
	}
	for i, t := range targets {
		folder := fmt.Sprintf("f%d", i)
		if err := sa.waitReady(t.st, folder, 60*time.Second); err != nil {
			return err
		}
		if err := t.st.waitReady(sa, folder, 60*time.Second); err != nil {
			return err
		}
	}
	load0 := loadavg()
	for r := 0; r < rounds; r++ {
		src := filepath.Join(work, fmt.Sprintf("round%d.bin", r))
		if err := freshFile(src, size, uint64(r)); err != nil {
			return err
		}
		// A file offered within 2 s of its last write is hashed again as it
		// is served (files/sourceid.go, racyMargin: its stamps may not have
		// moved yet); a user's file is older than that, so the round's file
		// is too before the first program sends it.
		time.Sleep(settleAge)
		for i, t := range targets {
			var row [nTools]sample
			// Parley.
			t0 := time.Now()
			tx0, rx0 := a.cpu(), t.p.cpu()
			id, err := offer(a, t.p, src)
			if err != nil {
				return err
			}
			row[tParley].extraEl = time.Since(t0)
			row[tParley].extraCPU = a.cpu() + t.p.cpu() - tx0 - rx0
			tx0, rx0 = a.cpu(), t.p.cpu()
			el, _, err := accept(t.p, id, size)
			if err != nil {
				return err
			}
			row[tParley] = sample{el: el, cpuSend: a.cpu() - tx0, cpuRecv: t.p.cpu() - rx0,
				extraEl: row[tParley].extraEl, extraCPU: row[tParley].extraCPU}
			removeDownload(t.p, id)
			// scp.
			dst := filepath.Join(t.dir, "scp.bin")
			if row[tScp].el, row[tScp].cpuSend, row[tScp].cpuRecv, err = scp(a.host, key, src, t.sshd, dst); err != nil {
				return err
			}
			os.Remove(dst)
			// Syncthing.
			if row[tSyncthing].el, row[tSyncthing].cpuSend, row[tSyncthing].cpuRecv, err =
				syncFile(sa, t.st, fmt.Sprintf("f%d", i), src, t.stDir, filepath.Join(t.dir, "st"), size); err != nil {
				return err
			}
			// Plain TCP.
			dst = filepath.Join(t.dir, "tcp.bin")
			if row[tTCP].el, row[tTCP].cpuSend, row[tTCP].cpuRecv, err = plainTCP(a.host, t.p.host, t.p.host.IP(b.seg), src, dst); err != nil {
				return err
			}
			os.Remove(dst)
			t.rows = append(t.rows, row)
		}
		os.Remove(src)
	}
	printCompare(targets, size, rounds, load0, loadavg())
	return nil
}

// removeDownload deletes the file Parley placed for transfer id (the rounds
// would otherwise fill the tmpfs with copies).
func removeDownload(p *proc, id string) {
	for _, e := range p.Events() {
		if e.Name() == "file_done" && e.Str("id") == id && e.Str("path") != "" {
			os.Remove(e.Str("path"))
		}
	}
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// mmm formats min / median / max of xs with f.
func mmm(xs []float64, format string) string {
	s := slices.Clone(xs)
	slices.Sort(s)
	return fmt.Sprintf(format+" / "+format+" / "+format, s[0], s[len(s)/2], s[len(s)-1])
}

func printCompare(targets []*target, size, rounds int, load0, load1 string) {
	fmt.Printf("\nParley next to scp, Syncthing and plain TCP: one %d MiB file a→receiver, %d rounds (a fresh file each), every tool once per round; min / median / max. Load average before: %s, after: %s\n",
		size>>20, rounds, load0, load1)
	mib := float64(size) / (1 << 20)
	for _, t := range targets {
		fmt.Printf("\nInto %s\n\n", t.label)
		fmt.Println("| tool | MB/s | CPU both ends, s per 256 MiB (sender + receiver, medians) |")
		fmt.Println("|---|---|---|")
		for k := tool(0); k < nTools; k++ {
			var rate, cpu, snd, rcv []float64
			for _, row := range t.rows {
				s := row[k]
				rate = append(rate, float64(size)/s.el.Seconds()/1e6)
				per := 256 / mib
				cpu = append(cpu, (s.cpuSend+s.cpuRecv).Seconds()*per)
				snd = append(snd, s.cpuSend.Seconds()*per)
				rcv = append(rcv, s.cpuRecv.Seconds()*per)
			}
			fmt.Printf("| %s | %s | %s (%.2f + %.2f) |\n", toolNames[k], mmm(rate, "%.0f"), mmm(cpu, "%.2f"), median(snd), median(rcv))
		}
		var offerEl, offerCPU, whole []float64
		for _, row := range t.rows {
			p := row[tParley]
			offerEl = append(offerEl, p.extraEl.Seconds())
			offerCPU = append(offerCPU, p.extraCPU.Seconds()*256/mib)
			whole = append(whole, float64(size)/(p.extraEl+p.el).Seconds()/1e6)
		}
		fmt.Printf("| Parley send_file → file_offer (hashing for the offer; not in the row above) | %s s | %s |\n", mmm(offerEl, "%.2f"), mmm(offerCPU, "%.2f"))
		fmt.Printf("| Parley send_file → file_done, counting the offer's hashing (as Syncthing's row does) | %s | |\n", mmm(whole, "%.0f"))
		fmt.Println()
		fmt.Println("| ratio, per round | min / median / max | goal |")
		fmt.Println("|---|---|---|")
		ratio := func(num, den tool, withOffer bool) []float64 {
			var out []float64
			for _, row := range t.rows {
				n := row[num].el
				if withOffer {
					n += row[num].extraEl
				}
				out = append(out, row[den].el.Seconds()/n.Seconds())
			}
			return out
		}
		fmt.Printf("| Parley ÷ Syncthing (speed) | %s | ≥ 1.0× |\n", mmm(ratio(tParley, tSyncthing, false), "%.2f×"))
		fmt.Printf("| Parley ÷ Syncthing, both counting their hashing | %s | |\n", mmm(ratio(tParley, tSyncthing, true), "%.2f×"))
		fmt.Printf("| Parley ÷ plain TCP (speed) | %s | ≥ 0.5× |\n", mmm(ratio(tParley, tTCP, false), "%.2f×"))
		fmt.Printf("| Parley ÷ scp (speed) | %s | |\n", mmm(ratio(tParley, tScp, false), "%.2f×"))
		var cpuRatio []float64
		for _, row := range t.rows {
			cpuRatio = append(cpuRatio, (row[tParley].cpuSend+row[tParley].cpuRecv).Seconds()/(row[tSyncthing].cpuSend+row[tSyncthing].cpuRecv).Seconds())
		}
		fmt.Printf("| Parley ÷ Syncthing (CPU per byte, both ends) | %s | |\n", mmm(cpuRatio, "%.2f×"))
	}
	fmt.Println()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
