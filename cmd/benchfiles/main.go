// Command benchfiles measures file transfer on real network hosts (namespaces on a
// bridge, the real binary in each, driven headless):
//
//   - single-source throughput over veth, next to a raw TLS 1.3 stream between the
//     same two namespaces in the same run (the ceiling a file transfer could reach);
//   - multi-source speed-up: one file fetched from one source, then from three,
//     every source shaped with tbf to the same rate;
//   - CPU per 100 MB/s: user+system time of both processes per byte moved.
//
// Needs root.
package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"parley/internal/netlab"
)

func main() {
	bin := flag.String("bin", "", "parley binary (default: build it)")
	sizeMB := flag.Int("size", 256, "file size for the throughput run, MB")
	multiMB := flag.Int("multi-size", 40, "file size for the multi-source run, MB (0: skip that run)")
	rate := flag.String("rate", "40mbit", "tbf rate of each source in the multi-source run")
	rounds := flag.Int("rounds", 3, "rounds of the comparison with scp, Syncthing and plain TCP (0: skip it)")
	onlyCompare := flag.Bool("only-compare", false, "run the comparison alone")
	tcpRecv := flag.String("tcp-recv", "", "internal: plain-TCP receiver on this address")
	tcpSendTo := flag.String("tcp-send", "", "internal: plain-TCP sender to this address")
	tcpFile := flag.String("tcp-file", "", "internal: the plain-TCP file")
	flag.Parse()
	if *tcpRecv != "" || *tcpSendTo != "" {
		var err error
		if *tcpRecv != "" {
			err = tcpReceive(*tcpRecv, *tcpFile)
		} else {
			err = tcpSend(*tcpSendTo, *tcpFile)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchfiles:", err)
			os.Exit(1)
		}
		return
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "benchfiles: needs root (network namespaces)")
		os.Exit(2)
	}
	if err := run(*bin, *sizeMB<<20, *multiMB<<20, *rate, *rounds, *onlyCompare); err != nil {
		fmt.Fprintln(os.Stderr, "benchfiles:", err)
		os.Exit(1)
	}
}

// writeFile writes n random bytes.
func writeFile(dir, name string, n int) (string, error) {
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for left := n; left > 0; left -= len(buf) {
		rand.Read(buf)
		if _, err := f.Write(buf[:min(left, len(buf))]); err != nil {
			return "", err
		}
	}
	return path, nil
}

func run(bin string, size, multiSize int, rate string, rounds int, onlyCompare bool) error {
	lab, bin, err := netlab.Setup(bin)
	if err != nil {
		return err
	}
	defer lab.Close()
	seg, err := lab.AddSegment("lan")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "benchfiles")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// A downloads folder in RAM (tmpfs) for a second receiver, m: the same
	// transfer without the disk, which on this machine writes ~300 MB/s synced
	// and so caps any download to disk below what the network carries.
	shm, err := os.MkdirTemp("/dev/shm", "benchfiles")
	if err != nil {
		return fmt.Errorf("tmpfs folder: %w", err)
	}
	defer os.RemoveAll(shm)
	b := &bench{lab: lab, bin: bin, seg: seg, dir: dir}
	procs := map[string]*proc{}
	for _, name := range []string{"a", "b", "c", "d", "m"} {
		var extra []string
		if name == "m" {
			extra = []string{"--downloads", filepath.Join(shm, "downloads")}
		}
		if procs[name], err = b.start(name, extra...); err != nil {
			return err
		}
	}
	defer func() {
		for _, p := range procs {
			p.Quit(5 * time.Second)
		}
	}()
	a, pb, pc, d, m := procs["a"], procs["b"], procs["c"], procs["d"], procs["m"]
	for _, p := range []*proc{pb, pc, d, m} {
		if err := a.waitPeer(p); err != nil {
			return err
		}
	}
	fmt.Printf("File transfer between network namespaces on one veth bridge (%s)\n\n", time.Now().Format("2006-01-02"))
	if onlyCompare {
		return b.compareAll(a, d, m, shm, size, rounds)
	}

	// Single source vs raw TLS, same pair of namespaces.
	big, err := writeFile(dir, "big.bin", size)
	if err != nil {
		return err
	}
	raw, rawCPU, err := rawTLS(a.host, d.host, d.host.IP(seg), size, 0, "")
	if err != nil {
		return fmt.Errorf("raw TLS: %w", err)
	}
	rawLow, _, err := rawTLS(a.host, d.host, d.host.IP(seg), size, 128<<10, "")
	if err != nil {
		return fmt.Errorf("raw TLS: %w", err)
	}
	rawStore, rawStoreCPU, err := rawTLS(a.host, d.host, d.host.IP(seg), size, 128<<10, filepath.Join(dir, "raw.out"))
	if err != nil {
		return fmt.Errorf("raw TLS: %w", err)
	}
	rawRAM, rawRAMCPU, err := rawTLS(a.host, m.host, m.host.IP(seg), size, 128<<10, filepath.Join(shm, "raw.out"))
	if err != nil {
		return fmt.Errorf("raw TLS to tmpfs: %w", err)
	}
	os.Remove(filepath.Join(shm, "raw.out"))
	// The same file to m, whose downloads folder is in RAM.
	idRAM, err := offer(a, m, big)
	if err != nil {
		return err
	}
	cpuRAM0 := a.cpu() + m.cpu()
	elRAM, _, err := accept(m, idRAM, size)
	if err != nil {
		return err
	}
	cpuRAM := a.cpu() + m.cpu() - cpuRAM0
	id, err := offer(a, d, big)
	if err != nil {
		return err
	}
	// CPU from the accept on: hashing the file for the offer is the sender's
	// one-off cost (about 1 s per GB here), not the transfer's.
	cpu0 := a.cpu() + d.cpu()
	stop := make(chan struct{})
	busy := startChatProbe(a, d, 50*time.Millisecond, stop)
	el, steady, err := accept(d, id, size)
	close(stop)
	if err != nil {
		return err
	}
	cpu := a.cpu() + d.cpu() - cpu0
	during := busy.latencies()
	stop = make(chan struct{})
	idle := startChatProbe(a, d, 50*time.Millisecond, stop)
	time.Sleep(time.Second)
	close(stop)
	quiet := idle.latencies()
	mbps := func(n int, d time.Duration) float64 { return float64(n) / d.Seconds() / 1e6 }
	fmt.Println("| measure | result |")
	fmt.Println("|---|---|")
	fmt.Printf("| raw TLS 1.3 stream a→d (%d MB, 256 KiB writes) | %.0f MB/s |\n", size>>20, mbps(size, raw))
	fmt.Printf("| raw TLS 1.3 stream, TCP_NOTSENT_LOWAT 128 KiB as on overlay links | %.0f MB/s |\n", mbps(size, rawLow))
	fmt.Printf("| raw TLS 1.3 stream, receiver hashing (SHA-256 per 256 KiB) and writing to a file, synced | %.0f MB/s |\n", mbps(size, rawStore))
	fmt.Printf("| Parley send_file a→d, accept → file_done (%d MB: chunks hashed, written, synced, placed) | %.0f MB/s (%.0f %% of raw TLS) |\n",
		size>>20, mbps(size, el), 100*raw.Seconds()/el.Seconds())
	fmt.Printf("| Parley steady rate (between first and last progress event) | %.0f MB/s (%.0f %% of raw TLS) |\n",
		steady/1e6, 100*steady/(float64(size)/raw.Seconds()))
	fmt.Printf("| raw TLS 1.3 stream a→m, hashing and writing into RAM (tmpfs), synced | %.0f MB/s |\n", mbps(size, rawRAM))
	fmt.Printf("| Parley send_file a→m, downloads folder in RAM (tmpfs) | %.0f MB/s (%.0f %% of raw TLS) |\n",
		mbps(size, elRAM), 100*raw.Seconds()/elRAM.Seconds())
	fmt.Printf("| CPU, both ends, per 100 MB/s: raw TLS | %.2f cores |\n", rawCPU.Seconds()/(float64(size)/1e8))
	fmt.Printf("| CPU, both ends, per 100 MB/s: raw TLS hashing and writing into RAM | %.2f cores |\n", rawRAMCPU.Seconds()/(float64(size)/1e8))
	fmt.Printf("| CPU, both ends, per 100 MB/s: Parley into RAM | %.2f cores |\n", cpuRAM.Seconds()/(float64(size)/1e8))
	fmt.Printf("| CPU, both ends, per 100 MB/s: raw TLS hashing and writing | %.2f cores |\n", rawStoreCPU.Seconds()/(float64(size)/1e8))
	fmt.Printf("| CPU, both ends, per 100 MB/s: Parley | %.2f cores |\n", cpu.Seconds()/(float64(size)/1e8))
	fmt.Printf("| chat a→d while the file fills the link: p50 / max (%d messages) | %s / %s |\n", len(during), ms(quantile(during, 0.5)), ms(quantile(during, 1)))
	fmt.Printf("| chat a→d on the idle link: p50 / max (%d messages) | %s / %s |\n", len(quiet), ms(quantile(quiet, 0.5)), ms(quantile(quiet, 1)))
	fmt.Printf("\nParley reaches %.0f %% of the raw stream that hashes and stores.\n", 100*rawStore.Seconds()/el.Seconds())

	// Before the multi-source run, which shapes a's link.
	if err := b.compareAll(a, d, m, shm, size, rounds); err != nil {
		return err
	}
	// Multi-source: b and c fetch the room file first, then every holder is shaped.
	if multiSize == 0 {
		return nil
	}
	return b.multi(procs, multiSize, rate)
}

// compareAll runs the comparison into m's tmpfs and d's disk.
func (b *bench) compareAll(a, d, m *proc, shm string, size, rounds int) error {
	if rounds == 0 {
		return nil
	}
	ram := filepath.Join(shm, "compare")
	disk := filepath.Join(b.dir, "compare-d")
	for _, dir := range []string{ram, disk} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return b.compare(a, []*target{
		{label: "RAM (tmpfs) on m", p: m, dir: ram},
		{label: "disk (ext4 on the VM's virtio disk) on d", p: d, dir: disk},
	}, size, rounds)
}
