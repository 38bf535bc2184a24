// Command benchgui measures the desktop window: time from launch until the window is
// drawn on an Xvfb display, and the idle resident memory with 50 peers in the roster
// and 10,000 messages in a conversation. Every figure is set beside a baseline from
// the same run, on the same display, launches alternated: the smallest Fyne window
// (app/benchfloor, built here with Parley's Fyne version and tags), and with
// -wine-exe the Windows build under Wine next to the Linux one. The node runs with
// discovery off on loopback, so nothing leaves the machine. Needs Xvfb and
// ImageMagick's import.
package main

import (
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"parley/identity"
	"parley/internal/procstat"
	"parley/store"
)

func main() {
	bin := flag.String("bin", "bin/parley", "parley binary (built with -tags migrated_fynedo)")
	trials := flag.Int("trials", 5, "launches of each program")
	peers := flag.Int("peers", 50, "peers in the roster")
	messages := flag.Int("messages", 10000, "messages in one conversation")
	wineExe := flag.String("wine-exe", "", "also launch this Windows build (parley.exe) under Wine")
	wineRoot := flag.String("wine-root", "/var/cache/parley/wine-trixie", "the Wine root (packaging/windows/wine-root.sh)")
	flag.Parse()
	if err := run(*bin, *trials, *peers, *messages, *wineExe, *wineRoot); err != nil {
		fmt.Fprintln(os.Stderr, "benchgui:", err)
		os.Exit(1)
	}
}

// program is one kind of launch and what its launches measured.
type program struct {
	name    string
	launch  func(display string) (visible time.Duration, m mem, err error)
	visible []time.Duration
	rss     []int // KiB
	anon    []int // KiB, the anonymous part of rss
}

// mem is a process's resident memory in KiB: all of it (VmRSS), and the
// anonymous part (RssAnon: Go's heap, C's heap, the renderer's buffers), the
// rest being the pages of the binary and libraries (clean, shared with the page
// cache, reclaimable) and shared memory.
type mem struct{ rss, anon int }

func run(bin string, trials, peers, messages int, wineExe, wineRoot string) error {
	dir, err := os.MkdirTemp("", "benchgui")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	if err := populate(data, peers, messages); err != nil {
		return err
	}
	floor := filepath.Join(dir, "floor")
	if out, err := exec.Command("go", "build", "-tags", "migrated_fynedo", "-o", floor, "./app/benchfloor").CombinedOutput(); err != nil {
		return fmt.Errorf("building the Fyne floor: %v\n%s", err, out)
	}
	parley := &program{name: "Parley (Linux)", launch: func(d string) (time.Duration, mem, error) {
		return launch(d, bin, "--data", data, "--discovery", "none", "--listen", "127.0.0.1:0", "--log-level", "error")
	}}
	progs := []*program{parley, {name: "smallest Fyne window", launch: func(d string) (time.Duration, mem, error) {
		return launch(d, floor)
	}}}
	if wineExe != "" {
		w, err := newWineLaunch(wineRoot, wineExe, data)
		if err != nil {
			return err
		}
		defer w.cleanup()
		progs = append(progs, &program{name: "Parley (Windows, under Wine 10)", launch: w.launch})
	}

	num := 300 + os.Getpid()%300
	display := fmt.Sprintf(":%d", num)
	os.Remove(fmt.Sprintf("/tmp/.X%d-lock", num))
	xvfb := exec.Command("Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	if err := xvfb.Start(); err != nil {
		return fmt.Errorf("Xvfb: %w", err)
	}
	defer func() { xvfb.Process.Signal(syscall.SIGTERM); xvfb.Wait() }()
	time.Sleep(500 * time.Millisecond)

	// One unmeasured launch each first: the page cache (and Wine's prefix, made on
	// its first start) would otherwise weigh on whichever program ran first.
	for _, p := range progs {
		if _, _, err := p.launch(display); err != nil {
			return fmt.Errorf("%s, warm-up: %w", p.name, err)
		}
	}
	// Alternated, so the machine's load (shared, 2 vCPUs) falls on all alike.
	for i := 0; i < trials; i++ {
		for _, p := range progs {
			v, m, err := p.launch(display)
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			p.visible, p.rss, p.anon = append(p.visible, v), append(p.rss, m.rss), append(p.anon, m.anon)
		}
	}
	report(progs, trials, peers, messages)
	return nil
}

// report prints min/median/max of each program and the ratios the issue judges:
// Parley's launch against the smallest window's, and Parley's own memory (its RSS
// less the smallest window's).
func report(progs []*program, trials, peers, messages int) {
	for _, p := range progs {
		slices.Sort(p.visible)
		slices.Sort(p.rss)
		slices.Sort(p.anon)
	}
	fmt.Printf("Desktop window, %d peers in the roster, %d messages in one conversation, %d launches each, alternated (%s)\n\n",
		peers, messages, trials, time.Now().Format("2006-01-02"))
	fmt.Println("| program | launch → window drawn, min / median / max | idle RSS after 5 s, min / median / max | of it anonymous, median |")
	fmt.Println("|---|---|---|---|")
	for _, p := range progs {
		fmt.Printf("| %s | %d / %d / %d ms | %.1f / %.1f / %.1f MB | %.1f MB |\n", p.name,
			p.visible[0].Milliseconds(), med(p.visible).Milliseconds(), p.visible[len(p.visible)-1].Milliseconds(),
			mb(p.rss[0]), mb(med(p.rss)), mb(p.rss[len(p.rss)-1]), mb(med(p.anon)))
	}
	parley, floor := progs[0], progs[1]
	ratio := float64(med(parley.visible)) / float64(med(floor.visible))
	own := mb(med(parley.rss)) - mb(med(floor.rss))
	fmt.Println()
	fmt.Println("| figure | value | goal |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| launch → window, Parley ÷ smallest Fyne window (medians) | %.2f× | ≤ 1.3× |\n", ratio)
	fmt.Printf("| Parley's own memory (its RSS − the smallest window's, medians) | %.1f MB | ≤ 20 MB |\n", own)
	fmt.Printf("| of it anonymous (RssAnon − the smallest window's; the rest is the larger binary's pages) | %.1f MB | none |\n",
		mb(med(parley.anon))-mb(med(floor.anon)))
	if len(progs) > 2 {
		w := progs[2]
		fmt.Printf("| Windows build under Wine ÷ Linux build, launch (medians; Wine's start included) | %.2f× | none (Wine's own) |\n",
			float64(med(w.visible))/float64(med(parley.visible)))
		fmt.Printf("| Windows build under Wine − Linux build, RSS (medians; the program's process, wineserver apart) | %+.1f MB | none |\n",
			mb(med(w.rss))-mb(med(parley.rss)))
	}
}

func med[T any](s []T) T { return s[len(s)/2] }

func mb(kb int) float64 { return float64(kb) / 1024 }

// populate writes a data dir as a long-used installation would have it.
func populate(dir string, peers, messages int) error {
	self, err := identity.LoadOrCreate(dir)
	if err != nil {
		return err
	}
	db, err := store.Open(dir)
	if err != nil {
		return err
	}
	defer db.Close()
	// A long-used installation has its name chosen (no first-run welcome).
	if err := db.SetSetting("name", "Sam"); err != nil {
		return err
	}
	var first string
	for i := 0; i < peers; i++ {
		id, _ := identity.Generate()
		if first == "" {
			first = id.ID.String()
		}
		now := time.Now()
		if err := db.PutPeer(store.Peer{ID: id.ID.String(), PubKey: id.Public, Name: fmt.Sprintf("Peer %02d", i), FirstSeen: now, LastSeen: now}); err != nil {
			return err
		}
	}
	start := time.Now().Add(-time.Duration(messages) * time.Minute)
	return db.Update(func(tx *store.Tx) error {
		for i := 0; i < messages; i++ {
			at := start.Add(time.Duration(i) * time.Minute)
			m := store.Message{ID: fmt.Sprintf("M%08d%s", i, rand.Text()[:6]), Conv: store.DirectConv(first), Text: fmt.Sprintf("message %d", i), HLC: uint64(at.UnixMilli()) << 16, Time: at}
			if i%2 == 0 {
				m.From, m.To, m.State = self.ID.String(), first, store.StateRead
			} else {
				m.From, m.To, m.State = first, self.ID.String(), store.StateRead
			}
			if _, err := tx.PutMessage(m); err != nil {
				return err
			}
		}
		return nil
	})
}

// launch starts a window program, times it until a screenshot of the display
// shows more than a blank screen, then reads its resident memory after 5 s of
// idling and ends it.
func launch(display, bin string, args ...string) (time.Duration, mem, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, mem{}, err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	visible, err := waitDrawn(display, t0, 20*time.Second)
	if err != nil {
		return 0, mem{}, err
	}
	time.Sleep(5 * time.Second)
	m, err := memOf(cmd.Process.Pid)
	return visible, m, err
}

// waitDrawn polls screenshots until one shows a window (more than 16 colours).
func waitDrawn(display string, t0 time.Time, limit time.Duration) (time.Duration, error) {
	for {
		if time.Since(t0) > limit {
			return 0, fmt.Errorf("window not drawn within %v", limit)
		}
		out, err := exec.Command("import", "-display", display, "-window", "root", "png:-").Output()
		if err == nil {
			if img, err := png.Decode(bytes.NewReader(out)); err == nil && colours(img) > 16 {
				return time.Since(t0), nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// memOf reads a process's resident memory from /proc/PID/status.
func memOf(pid int) (mem, error) {
	st, err := procstat.ReadStatus(pid)
	if err != nil {
		return mem{}, err
	}
	m := mem{rss: st.RSSKiB}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return mem{}, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "RssAnon:" {
			m.anon, _ = strconv.Atoi(f[1])
		}
	}
	return m, nil
}

func colours(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bb, _ := img.At(x, y).RGBA()
			seen[r>>8<<16|g>>8<<8|bb>>8] = true
			if len(seen) > 16 {
				return len(seen)
			}
		}
	}
	return len(seen)
}
