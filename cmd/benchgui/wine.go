package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wineLaunch starts the Windows build's window under the Wine of a root made by
// packaging/windows/wine-root.sh, as make test-windows does (wine-run.sh), on the
// same display and with a copy of the same data folder.
type wineLaunch struct {
	root, rel string // rel: the launch folder inside root, /tmp/benchgui-PID
	wrapper   string
}

func newWineLaunch(root, exe, data string) (*wineLaunch, error) {
	wrapper, err := filepath.Abs("packaging/windows/wine-run.sh")
	if err != nil {
		return nil, err
	}
	w := &wineLaunch{root: root, rel: fmt.Sprintf("/tmp/benchgui-%d", os.Getpid()), wrapper: wrapper}
	dir := filepath.Join(root, w.rel)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := exec.Command("cp", exe, filepath.Join(dir, "parley.exe")).Run(); err != nil {
		return nil, fmt.Errorf("copying %s: %w", exe, err)
	}
	if err := exec.Command("cp", "-r", data, filepath.Join(dir, "data")).Run(); err != nil {
		return nil, fmt.Errorf("copying the data folder: %w", err)
	}
	return w, nil
}

func (w *wineLaunch) cleanup() { os.RemoveAll(filepath.Join(w.root, w.rel)) }

// win is a path inside the launch folder as Windows sees it (Z:\ is the root).
func (w *wineLaunch) win(elem ...string) string {
	return `Z:` + strings.ReplaceAll(filepath.Join(append([]string{w.rel}, elem...)...), "/", `\`)
}

// launch times the window as launch does. Wine's loader execs the program in the
// process it started, so the started PID is the program's; wineserver, shared by
// every program of the prefix, is a process apart and not counted (the table says so).
func (w *wineLaunch) launch(display string) (visible time.Duration, m mem, err error) {
	cmd := exec.Command("unshare", "-m", w.wrapper, w.root, w.rel+"/prefix", w.rel+"/parley.exe",
		"--data", w.win("data"), "--discovery", "none", "--listen", "127.0.0.1:0", "--log-level", "error")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, mem{}, err
	}
	defer func() {
		w.stop(cmd)
		if err != nil { // read only after the program ended: it writes out
			err = fmt.Errorf("%w; its output:\n%s", err, tail(out.String(), 2000))
		}
	}()
	// A first start makes the Wine prefix (a minute or more); later ones reuse it.
	if visible, err = waitDrawn(display, t0, 3*time.Minute); err != nil {
		return 0, mem{}, err
	}
	time.Sleep(5 * time.Second)
	// On a first start what was drawn may be Wine's "updating the configuration"
	// box, before the program itself runs: wait for it (the warm-up launch).
	var pid int
	for end := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		if pid, err = w.programPID(cmd.Process.Pid); err == nil || time.Now().After(end) {
			break
		}
	}
	if err != nil {
		return 0, mem{}, err
	}
	m, err = memOf(pid)
	return visible, m, err
}

// programPID finds the process running parley.exe: the started one, or a
// descendant if the loader forked.
func (w *wineLaunch) programPID(started int) (int, error) {
	for _, pid := range append([]int{started}, descendants(started)...) {
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(comm)) == "parley.exe" {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no parley.exe process under PID %d", started)
}

// stop ends the program and waits for it; its wineserver leaves on its own
// once the prefix has no programs left.
func (w *wineLaunch) stop(cmd *exec.Cmd) {
	for _, pid := range append(descendants(cmd.Process.Pid), cmd.Process.Pid) {
		syscall.Kill(pid, syscall.SIGTERM)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// descendants lists the children of pid, recursively (from /proc/*/stat).
func descendants(pid int) []int {
	parent := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The parent is the second field after the parenthesised command name.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		if f := strings.Fields(rest); len(f) > 1 {
			if pp, err := strconv.Atoi(f[1]); err == nil {
				parent[pp] = append(parent[pp], p)
			}
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		c := parent[queue[0]]
		queue = append(queue[1:], c...)
		out = append(out, c...)
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
