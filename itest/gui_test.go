package itest

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"parley/headless/client"
	"parley/internal/netlab"
	"parley/media/audio"
	"parley/media/signal"
)

// TestDesktopSmoke starts the real binary with its window on an Xvfb display, next to
// two headless peers in their own namespaces. The window's node is also driven over
// --control (JSON lines, like --headless) so the test can see what the core under the
// window sees: the two peers come up, a message goes out and is delivered. Then a
// screenshot of the X display is taken and must not be blank. Last, p1 calls the
// window: its ring is played through the call audio output (a WAV file here), so
// the recording is not silent before the call is answered.
func TestDesktopSmoke(t *testing.T) {
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Fatal("Xvfb is not installed (make deps-test installs it)")
	}
	if _, err := exec.LookPath("import"); err != nil {
		t.Fatal("ImageMagick's import is not installed (make deps-test installs it)")
	}
	// Made before the cluster so that its removal, a cleanup, runs after the
	// cluster's cleanup has stopped the window writing into it.
	ringWAV := filepath.Join(t.TempDir(), "desk-out.wav")
	c := newCluster(t)
	hg, h1, h2 := c.host("gui"), c.host("p1"), c.host("p2")
	// A display number of our own; a lock left by a killed Xvfb would make a new one
	// refuse to start, so stale files of that number are cleared first. -noreset:
	// an X server resets when its last client leaves, and the window started
	// again right after the first one quit sometimes met that reset ("X11: Failed
	// to open display", then a GLFW panic; 2 of 8 runs at load ~30).
	num := 40 + os.Getpid()%400
	display := fmt.Sprintf(":%d", num)
	sock := fmt.Sprintf("/tmp/.X11-unix/X%d", num)
	os.Remove(fmt.Sprintf("/tmp/.X%d-lock", num))
	os.Remove(sock)
	xvfb := hg.Command(t.Context(), "Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		xvfb.Process.Signal(syscall.SIGTERM) // lets Xvfb remove its lock and socket
		xvfb.Wait()
	})
	eventually(t, 10*time.Second, "Xvfb to listen", func() bool {
		_, err := os.Stat(sock)
		return err == nil
	})
	t.Setenv("DISPLAY", display)

	p1 := c.start(h1, "p1", "--audio-in", "null", "--audio-out", "null") // it calls the window, last
	p2 := c.start(h2, "p2")
	g := c.startMode(hg, "desk", "--control", "--audio-in", "null", "--audio-out", ringWAV)
	g.waitPeerUp(20*time.Second, p1, p2)
	id := must(g.Send(p1.id, "hello from the desktop")).on(g)
	if _, err := p1.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "message" && e.Str("id") == id }); err != nil {
		t.Fatalf("p1 did not get the desktop's message: %v", err)
	}
	if _, err := g.WaitEvent(10*time.Second, func(e netlab.Event) bool { return e.Name() == "delivered" && e.Str("id") == id }); err != nil {
		t.Fatalf("no delivery receipt at the desktop: %v", err)
	}
	shot := filepath.Join(t.TempDir(), "desktop.png")
	if dir := os.Getenv("PARLEY_SCREENSHOTS"); dir != "" {
		shot = filepath.Join(dir, "desktop-smoke.png")
	}
	// The window takes a moment to map and draw (longer for a -race build): take
	// screenshots until one shows it, for at most 30 s.
	colours := 0
	eventually(t, 30*time.Second, "a non-blank screenshot of the window", func() bool {
		if out, err := hg.Run("import", "-display", display, "-window", "root", shot); err != nil {
			t.Fatalf("screenshot: %v: %s", err, out)
		}
		colours = screenshotColours(t, shot)
		return colours >= 16
	})
	t.Logf("screenshot %s: %d+ distinct colours", shot, colours)
	if g.Exited() {
		t.Fatalf("the desktop process exited:\n%s", g.Tail())
	}

	// The window rings (app/sounds.go → node.PlaySound) while the call waits.
	call := must(p1.Call(g.id)).on(p1)
	if _, err := g.WaitEventAny(10*time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("call") == call }); err != nil {
		t.Fatalf("the desktop was not rung: %v\n%s", err, g.Tail())
	}
	var rms float64
	eventually(t, 15*time.Second, "the ring in the recorded output before the answer", func() bool {
		if st, err := os.Stat(ringWAV); err != nil || st.Size() < 44+2*audio.SampleRate/2 {
			return false
		}
		rms = signal.RMS(readWAV(t, ringWAV))
		return rms > 0.05
	})
	t.Logf("ring before the answer: RMS %.3f", rms)
	g.ok(g.Answer(call))
	for _, n := range []*node{p1, g} {
		if _, err := n.WaitEventAny(15*time.Second, func(e netlab.Event) bool { return callEvent("active", "")(e) && e.Str("call") == call }); err != nil {
			t.Fatalf("%s: call never active: %v\n%s", n.name, err, n.Tail())
		}
	}
	p1.ok(p1.Hangup(call))

	// A file p1 sends lands at the window, and after the window quits and
	// starts again the core still lists it, done, with the time that places it
	// in the conversation's timeline (app/filetimeline.go). Quitting says
	// goodbye: p1 hears "goodbye", not a lost link.
	src, sum := makeFile(t, "site-notes.txt", 256<<10, 7)
	fid := p1.offerFile("to", g.id, src)
	done := g.receive(fid, 30*time.Second)
	if fileHash(t, done.Str("path")) != sum {
		t.Fatal("the received file differs from the original")
	}
	g.quit()
	if _, err := p1.WaitEventAny(10*time.Second, func(e netlab.Event) bool {
		return e.Name() == "peer_down" && e.PeerID() == g.id && e.Str("reason") == "goodbye"
	}); err != nil {
		t.Fatalf("p1 was not told goodbye when the window quit: %v", err)
	}
	eventually(t, 15*time.Second, "the window's process to exit", g.Exited) // it holds the data dir's lock
	// From here the desktop has a tray (a session bus with a tray watcher), so
	// closing the window keeps Parley running (app/background.go).
	bus := startTrayBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.addr)
	g = c.startMode(hg, "desk", "--control", "--audio-in", "null", "--audio-out", "null")
	list, err := g.Transfers()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list, func(x client.Transfer) bool { return x.ID == fid })
	if i < 0 {
		t.Fatalf("after the restart the window's core lists no %s: %+v", fid, list)
	}
	if x := list[i]; x.State != "done" || x.Out || x.Peer != p1.id || x.Time.IsZero() || x.Path != done.Str("path") {
		t.Fatalf("after the restart: %+v", x)
	}

	// Closing the window with a tray: the window hides and says so; the node
	// stays online for its peers (a message to it is delivered, receipted).
	// The window maps a moment after the node is ready: try for 30 s.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		err := closeXWindow(num, "Parley")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("closing the window: %v", err)
		}
	}
	select {
	case note := <-bus.notes:
		if !strings.Contains(note, "still running") {
			t.Fatalf("closing the window showed %q", note)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("closing the window did not say Parley keeps running\n%s", g.Tail())
	}
	id = must(p1.Send(g.id, "still there?")).on(p1)
	if _, err := g.WaitEventAny(15*time.Second, func(e netlab.Event) bool { return e.Name() == "message" && e.Str("id") == id }); err != nil {
		t.Fatalf("the closed window's node did not get a message: %v\n%s", err, g.Tail())
	}
	if _, err := p1.WaitEventAny(10*time.Second, func(e netlab.Event) bool { return e.Name() == "delivered" && e.Str("id") == id }); err != nil {
		t.Fatalf("no delivery receipt from the closed window's node: %v", err)
	}
	if g.Exited() {
		t.Fatalf("closing the window ended the process:\n%s", g.Tail())
	}

	// Double-clicking Parley again while it runs in the tray: the second start
	// brings the window back and exits at once, without an error (activate.go).
	drawn := func() int {
		if out, err := hg.Run("import", "-display", display, "-window", "root", shot); err != nil {
			t.Fatalf("screenshot: %v: %s", err, out)
		}
		return screenshotColours(t, shot)
	}
	if n := drawn(); n >= 16 {
		t.Fatalf("the window closed into the tray is still drawn (%d colours)", n)
	}
	second := c.launch(hg, "desk", "--control", "--audio-in", "null", "--audio-out", "null")
	eventually(t, 20*time.Second, "the second start to exit", second.Exited)
	if err := second.Wait(); err != nil {
		t.Fatalf("the second start failed: %v\n%s", err, second.Tail())
	}
	eventually(t, 15*time.Second, "the window drawn again", func() bool { return drawn() >= 16 })
	if g.Exited() {
		t.Fatalf("the second start ended the first:\n%s", g.Tail())
	}
}

func screenshotColours(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	return distinctColours(img, 64)
}

// distinctColours counts colours in img, stopping at limit.
func distinctColours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bb, a := img.At(x, y).RGBA()
			seen[[4]uint32{r >> 8, g >> 8, bb >> 8, a >> 8}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}
