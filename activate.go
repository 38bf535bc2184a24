package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A second start of the window on a data folder already in use — the user
// double-clicking Parley while it runs, perhaps hidden in the tray — brings the
// running window forward and exits, instead of failing with "data dir is in
// use" on a standard error nobody sees (a GUI program has none on Windows).
// The running window listens on a Unix socket in its data folder (0700, so only
// the user reaches it; Windows has AF_UNIX since 10 1803); the second start
// connects, writes "show\n" and waits for "ok\n".

// activateSocket is the socket's name in the data folder.
const activateSocket = "parley.sock"

// activateTimeout bounds each side of an exchange: a peer that connects and
// says nothing (or a hung window) costs at most this.
const activateTimeout = 2 * time.Second

// listenActivate serves show requests until done is closed, sending on the
// returned channel (which never blocks the server: one pending show is enough).
// It is only called by the process that holds the data folder's lock, so a
// socket file already there is a crashed instance's and is removed first.
func listenActivate(dataDir string, done <-chan struct{}, log *slog.Logger) (<-chan struct{}, error) {
	path := filepath.Join(dataDir, activateSocket)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	shows := make(chan struct{}, 1)
	go func() {
		<-done
		ln.Close()
		os.Remove(path)
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// One at a time, each bounded: nobody else can reach the socket, so
			// there is nothing to gain from serving many at once.
			if serveActivate(c) {
				log.Info("a second start asked for the window")
				select {
				case shows <- struct{}{}:
				default:
				}
			}
		}
	}()
	return shows, nil
}

// serveActivate reads one request and answers it; true for a valid show.
func serveActivate(c net.Conn) bool {
	defer c.Close()
	c.SetDeadline(time.Now().Add(activateTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, 16)).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "show" {
		return false
	}
	_, err = io.WriteString(c, "ok\n")
	return err == nil
}

// activateRunning asks the window running on dataDir to come forward and
// reports whether it said it would.
func activateRunning(dataDir string) bool {
	c, err := net.DialTimeout("unix", filepath.Join(dataDir, activateSocket), activateTimeout)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(activateTimeout))
	if _, err := io.WriteString(c, "show\n"); err != nil {
		return false
	}
	line, err := bufio.NewReader(io.LimitReader(c, 16)).ReadString('\n')
	return err == nil && line == "ok\n"
}
