package rtpbridge

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"parley/media/audio"
)

// A phone on hold (a=sendonly) gets no packets, and after resuming at a new
// port it gets them there, its timestamps counting the held time.
func TestBridgeHoldAndMove(t *testing.T) {
	b, err := Listen(loopback, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	first, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer first.Close()
	second, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer second.Close()
	recv := func(c *net.UDPConn) (rtp.Packet, bool) {
		buf := make([]byte, 1500)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Read(buf)
		var p rtp.Packet
		if err != nil || p.Unmarshal(buf[:n]) != nil {
			return p, false
		}
		return p, true
	}
	frame := make([]int16, audio.FrameSamples)
	b.SetRemote(Media{Addr: first.LocalAddr().(*net.UDPAddr).AddrPort(), PT: PTPCMU})
	b.Sink().WriteFrame(frame)
	p1, ok := recv(first)
	if !ok {
		t.Fatal("nothing sent before hold")
	}
	held := b.Remote()
	held.Dir = SendOnly
	b.SetRemote(held)
	for range 5 {
		b.Sink().WriteFrame(frame)
	}
	if _, ok := recv(first); ok {
		t.Fatal("a packet sent to a phone on hold")
	}
	if got := b.Stats().HeldFrames; got != 5 {
		t.Fatalf("HeldFrames %d, want 5", got)
	}
	b.SetRemote(Media{Addr: second.LocalAddr().(*net.UDPAddr).AddrPort(), PT: PTPCMU, Dir: SendRecv})
	b.Sink().WriteFrame(frame)
	p2, ok := recv(second)
	if !ok {
		t.Fatal("nothing sent to the new address after resuming")
	}
	if p2.SequenceNumber != p1.SequenceNumber+1 || p2.Timestamp != p1.Timestamp+6*samples8k {
		t.Fatalf("after hold: seq %d→%d, ts %d→%d; want +1 and +%d", p1.SequenceNumber, p2.SequenceNumber, p1.Timestamp, p2.Timestamp, 6*samples8k)
	}
	if _, ok := recv(first); ok {
		t.Fatal("the old address still gets packets")
	}
}

// Our SDP keeps its session ID and counts its version up.
func TestBridgeSDPVersions(t *testing.T) {
	b, err := Listen(loopback, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	one, two := b.SDP(SendRecv, PTPCMU), b.SDP(RecvOnly, PTPCMU)
	o1, o2 := lineOf(one, "o="), lineOf(two, "o=")
	var s1, v1, s2, v2 uint64
	if _, err := fmtSscanf(o1, &s1, &v1); err != nil {
		t.Fatal(err)
	}
	fmtSscanf(o2, &s2, &v2)
	if s1 != s2 || v2 != v1+1 {
		t.Fatalf("origins %q then %q", o1, o2)
	}
	if m, err := ParseSDP([]byte(two)); err != nil || m.Dir != RecvOnly {
		t.Fatalf("second SDP: %+v %v", m, err)
	}
}

func lineOf(body, prefix string) string {
	for _, l := range strings.Split(body, "\r\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func fmtSscanf(o string, s, v *uint64) (int, error) {
	return fmt.Sscanf(o, "o=parley %d %d", s, v)
}
