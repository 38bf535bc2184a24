// Command benchgui measures the desktop window's budget: time from launch until the
// window is drawn on an Xvfb display, and the idle resident memory with 50 peers in
// the roster and 10,000 messages in a conversation. The node runs with discovery off
// on loopback, so nothing leaves the machine. Needs Xvfb and ImageMagick's import.
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
	"parley/store"
)

func main() {
	bin := flag.String("bin", "bin/parley", "parley binary (built with -tags migrated_fynedo)")
	trials := flag.Int("trials", 5, "launches")
	peers := flag.Int("peers", 50, "peers in the roster")
	messages := flag.Int("messages", 10000, "messages in one conversation")
	flag.Parse()
	if err := run(*bin, *trials, *peers, *messages); err != nil {
		fmt.Fprintln(os.Stderr, "benchgui:", err)
		os.Exit(1)
	}
}

func run(bin string, trials, peers, messages int) error {
	dir, err := os.MkdirTemp("", "benchgui")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	if err := populate(data, peers, messages); err != nil {
		return err
	}
	num := 300 + os.Getpid()%300
	display := fmt.Sprintf(":%d", num)
	os.Remove(fmt.Sprintf("/tmp/.X%d-lock", num))
	xvfb := exec.Command("Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	if err := xvfb.Start(); err != nil {
		return fmt.Errorf("Xvfb: %w", err)
	}
	defer func() { xvfb.Process.Signal(syscall.SIGTERM); xvfb.Wait() }()
	time.Sleep(500 * time.Millisecond)

	var visible []time.Duration
	var rss []int
	for i := 0; i < trials; i++ {
		v, r, err := launch(bin, data, display)
		if err != nil {
			return err
		}
		visible, rss = append(visible, v), append(rss, r)
	}
	slices.Sort(visible)
	slices.Sort(rss)
	fmt.Printf("Desktop budget, %d peers in the roster, %d messages in one conversation, %d launches (%s)\n\n", peers, messages, trials, time.Now().Format("2006-01-02"))
	fmt.Println("| measure | median | max | budget |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| launch → window drawn | %d ms | %d ms | < 1000 ms |\n", visible[len(visible)/2].Milliseconds(), visible[len(visible)-1].Milliseconds())
	fmt.Printf("| idle RSS after 5 s | %d MB | %d MB | < 150 MB |\n", rss[len(rss)/2]/1024, rss[len(rss)-1]/1024)
	return nil
}

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

// launch starts the window, times it until a screenshot shows it, then reads its
// resident memory after 5 s of idling and closes it.
func launch(bin, data, display string) (time.Duration, int, error) {
	cmd := exec.Command(bin, "--data", data, "--discovery", "none", "--listen", "127.0.0.1:0", "--log-level", "error")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	var visible time.Duration
	for {
		if time.Since(t0) > 20*time.Second {
			return 0, 0, fmt.Errorf("window not drawn within 20 s")
		}
		out, err := exec.Command("import", "-display", display, "-window", "root", "png:-").Output()
		if err == nil {
			if img, err := png.Decode(bytes.NewReader(out)); err == nil && colours(img) > 16 {
				visible = time.Since(t0)
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(5 * time.Second)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return visible, kb, nil
		}
	}
	return 0, 0, fmt.Errorf("no VmRSS")
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
