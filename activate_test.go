package main

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A second start reaches the running window; junk on the socket is ignored;
// a stale socket file from a crash does not stop the next window listening.
func TestActivateRunningWindow(t *testing.T) {
	dir := t.TempDir()
	if activateRunning(dir) {
		t.Fatal("activated with nothing running")
	}
	// A crashed instance's socket file.
	if err := os.WriteFile(filepath.Join(dir, activateSocket), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	shows, err := listenActivate(dir, done, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("unix", filepath.Join(dir, activateSocket))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "open the pod bay doors\n")
	c.Close()
	if !activateRunning(dir) {
		t.Fatal("the running window did not answer")
	}
	select {
	case <-shows:
	case <-time.After(5 * time.Second):
		t.Fatal("no show request reached the window")
	}
	select {
	case <-shows:
		t.Fatal("the junk request was taken for a show")
	default:
	}
}
