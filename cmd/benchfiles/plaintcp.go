package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// The plain-TCP ceiling runs as two child processes of this same binary (one
// per namespace), so each end's CPU is its own process's rusage, measured the
// way scp's and Syncthing's are, and not mixed with the benchmark's own work.

// tcpReceive listens on addr, takes one connection and writes what arrives to
// path in 1 MiB reads, then fsyncs (as Parley does before file_done). It prints
// the time from accept to synced, in nanoseconds. Ready is signalled by a line
// "listening" on stdout, so the sender is started only once it can connect.
func tcpReceive(addr, path string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println("listening")
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	t0 := time.Now()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		n, rerr := c.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	fmt.Println(time.Since(t0).Nanoseconds())
	return nil
}

// tcpSend dials addr and sends the file with sendfile(2) (io.Copy from an
// *os.File to a *net.TCPConn takes that path), then closes its write side.
func tcpSend(addr, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.Copy(c, f); err != nil {
		return err
	}
	return c.(*net.TCPConn).CloseWrite()
}

// readLine reads one line from r (the child's stdout) with a deadline.
func readLine(r *bufio.Reader, timeout time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := r.ReadString('\n')
		ch <- res{s, err}
	}()
	select {
	case x := <-ch:
		return x.s, x.err
	case <-time.After(timeout):
		return "", fmt.Errorf("no line within %s", timeout)
	}
}
