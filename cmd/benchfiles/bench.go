package main

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"parley/identity"
	"parley/internal/netlab"
	"parley/node"
)

type bench struct {
	lab *netlab.Lab
	bin string
	seg *netlab.Segment
	dir string
}

type proc struct {
	*netlab.Proc
	id   string
	host *netlab.Host
}

func (b *bench) start(name string, extra ...string) (*proc, error) {
	h, err := b.lab.AddHost(name, b.seg)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--headless", "--data", filepath.Join(b.dir, name), "--name", name, "--log-level", "warn"}, extra...)
	p, err := h.Start(b.bin, args...)
	if err != nil {
		return nil, err
	}
	ready, err := p.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "ready" })
	if err != nil {
		return nil, err
	}
	return &proc{Proc: p, id: ready.Str("id"), host: h}, nil
}

func (p *proc) waitPeer(o *proc) error {
	_, err := p.WaitEventAny(20*time.Second, func(e netlab.Event) bool {
		up, ok := netlab.As[node.PeerUp](e)
		return ok && up.Peer.ID == o.id
	})
	if err != nil {
		return fmt.Errorf("never saw %s: %w", o.id, err)
	}
	return nil
}

// cpu is the process's user+system time so far.
func (p *proc) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID()))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// offer sends path from a to d and waits until d has the offer.
func offer(a, d *proc, path string) (string, error) {
	ids, err := a.Within(120*time.Second).SendFile(d.id, "", path)
	if err != nil {
		return "", fmt.Errorf("send_file: %w", err)
	}
	id := ids[0]
	if _, err := d.WaitEventAny(20*time.Second, func(e netlab.Event) bool { return e.Name() == "file_offer" && e.Str("id") == id }); err != nil {
		return "", fmt.Errorf("no offer: %w", err)
	}
	return id, nil
}

// accept accepts an offer at d and times accept → file_done; steady is the rate
// between the first and last progress events.
func accept(d *proc, id string, size int) (time.Duration, float64, error) {
	t0 := time.Now()
	if err := d.AcceptFile(id); err != nil {
		return 0, 0, err
	}
	if _, err := d.WaitEventAny(300*time.Second, func(e netlab.Event) bool { return e.Name() == "file_done" && e.Str("id") == id }); err != nil {
		return 0, 0, fmt.Errorf("not done: %w", err)
	}
	el := time.Since(t0)
	var first, last netlab.Event
	for _, e := range d.Events() {
		if e.Name() == "file_progress" && e.Str("id") == id && e["out"] == nil {
			if first == nil {
				first = e
			}
			last = e
		}
	}
	steady := float64(size) / el.Seconds()
	if first != nil && last != nil {
		t1, _ := time.Parse(time.RFC3339Nano, first.Str("time"))
		t2, _ := time.Parse(time.RFC3339Nano, last.Str("time"))
		if dt := t2.Sub(t1); dt > 0 {
			steady = (last.Num("bytes") - first.Num("bytes")) / dt.Seconds()
		}
	}
	return el, steady, nil
}

// rawTLS streams n bytes over one TLS 1.3 connection from src to dst (the
// listener at ip) and returns the receiver's elapsed time and the CPU time this
// process spent (both ends run here).
//
// With store set, the receiver also does what any verified download must: it
// hashes every 256 KiB with SHA-256 and writes it to a preallocated file.
func rawTLS(src, dst *netlab.Host, ip string, n int, lowat int, store string) (time.Duration, time.Duration, error) {
	id, err := identity.Generate()
	if err != nil {
		return 0, 0, err
	}
	cert, err := id.TLSCertificate()
	if err != nil {
		return 0, 0, err
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}
	var ln net.Listener
	if err := dst.Do(func() error {
		var err error
		ln, err = tls.Listen("tcp", net.JoinHostPort(ip, "40001"), conf)
		return err
	}); err != nil {
		return 0, 0, err
	}
	defer ln.Close()
	type result struct {
		el  time.Duration
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		var f *os.File
		if store != "" {
			if f, err = os.Create(store); err != nil {
				done <- result{err: err}
				return
			}
			defer os.Remove(store)
			defer f.Close()
			syscall.Fallocate(int(f.Fd()), 0, 0, int64(n))
		}
		buf := make([]byte, 256<<10)
		var t0 time.Time
		got := 0
		for got < n {
			k, err := io.ReadFull(c, buf[:min(len(buf), n-got)])
			if got == 0 && k > 0 {
				t0 = time.Now()
			}
			if f != nil {
				sha256.Sum256(buf[:k])
				if _, err := f.WriteAt(buf[:k], int64(got)); err != nil {
					done <- result{err: err}
					return
				}
			}
			got += k
			if err != nil {
				done <- result{err: err}
				return
			}
		}
		if f != nil {
			f.Sync()
		}
		done <- result{el: time.Since(t0)}
	}()
	var conn net.Conn
	if err := src.Do(func() error {
		var err error
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			if lowat > 0 { // what the overlay sets on its links (overlay/sockopt_linux.go)
				c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, 25, lowat) })
			}
			return nil
		}}
		conn, err = tls.DialWithDialer(&d, "tcp", net.JoinHostPort(ip, "40001"), conf)
		return err
	}); err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	cpu0 := selfCPU()
	buf := make([]byte, 256<<10)
	for sent := 0; sent < n; sent += len(buf) {
		if _, err := conn.Write(buf[:min(len(buf), n-sent)]); err != nil {
			return 0, 0, err
		}
	}
	r := <-done
	io.Copy(io.Discard, conn)
	return r.el, selfCPU() - cpu0, r.err
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// multi times one file from one shaped source, then from three.
func (b *bench) multi(p map[string]*proc, size int, rate string) error {
	a, pb, pc, d := p["a"], p["b"], p["c"], p["d"]
	room, err := a.Join("bench")
	if err != nil {
		return err
	}
	roomID := room.ID
	for _, n := range []*proc{pb, pc} {
		if err := waitRoom(n, roomID); err != nil {
			return err
		}
		if _, err := n.Join(roomID); err != nil {
			return err
		}
	}
	time.Sleep(2 * time.Second) // a's view of the members, from their records
	path, err := writeFile(b.dir, "multi.bin", size)
	if err != nil {
		return err
	}
	ids, err := a.Within(60*time.Second).SendFile("", roomID, path)
	if err != nil {
		return err
	}
	id := ids[0]
	for _, n := range []*proc{pb, pc} {
		if _, err := n.WaitEventAny(20*time.Second, func(e netlab.Event) bool { return e.Name() == "file_offer" && e.Str("id") == id }); err != nil {
			return fmt.Errorf("room offer: %w", err)
		}
		if _, _, err := accept(n, id, size); err != nil {
			return err
		}
	}
	for _, n := range []*proc{a, pb, pc} {
		if err := n.host.Shape(b.seg, rate); err != nil {
			return err
		}
	}
	oneID, err := offer(a, d, path)
	if err != nil {
		return err
	}
	one, _, err := accept(d, oneID, size)
	if err != nil {
		return fmt.Errorf("single source: %w", err)
	}
	if _, err := d.Join(roomID); err != nil {
		return err
	}
	if _, err := d.WaitEventAny(30*time.Second, func(e netlab.Event) bool { return e.Name() == "file_offer" && e.Str("id") == id }); err != nil {
		return fmt.Errorf("room offer to d: %w", err)
	}
	sent0 := map[*proc]float64{}
	for _, n := range []*proc{a, pb, pc} {
		sent0[n] = counter(n, "files_bytes_sent")
	}
	three, _, err := accept(d, id, size)
	if err != nil {
		return fmt.Errorf("three sources: %w", err)
	}
	mb := func(n *proc) float64 { return (counter(n, "files_bytes_sent") - sent0[n]) / (1 << 20) }
	fmt.Printf("\nMulti-source: %d MB, every source shaped with tbf to %s\n\n", size>>20, rate)
	fmt.Println("| sources | time | rate | speed-up |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| 1 (the author) | %.2f s | %.1f MB/s | 1.00× |\n", one.Seconds(), float64(size)/one.Seconds()/1e6)
	fmt.Printf("| 3 (author + 2 members that hold it; served %.1f / %.1f / %.1f MB) | %.2f s | %.1f MB/s | %.2f× |\n",
		mb(a), mb(pb), mb(pc), three.Seconds(), float64(size)/three.Seconds()/1e6, one.Seconds()/three.Seconds())
	return nil
}

func waitRoom(n *proc, room string) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		list, err := n.Within(5 * time.Second).Rooms()
		if err != nil {
			return err
		}
		for _, r := range list {
			if r.ID == room {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("room %s never appeared", room)
}

func counter(n *proc, name string) float64 {
	counters, err := n.Within(5 * time.Second).Stats()
	if err != nil {
		return 0
	}
	return float64(counters[name])
}
