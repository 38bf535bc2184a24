package itest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// closeXWindow asks the top-level window whose title contains title to close,
// as a window manager's close button does: a WM_DELETE_WINDOW client message
// (ICCCM 4.2.8.1). The lab's Xvfb runs no window manager and has no xdotool,
// so this speaks the few X11 requests it needs itself, over the display's
// socket (Xvfb accepts local clients without authorisation).
// Byte layouts: X Window System Protocol, chapter 8 (connection setup) and
// the InternAtom, QueryTree, GetProperty and SendEvent requests.
func closeXWindow(displayNum int, title string) error {
	conn, err := net.DialTimeout("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", displayNum), 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	x := &xconn{w: conn, r: bufio.NewReader(conn)}
	root, err := x.setup()
	if err != nil {
		return err
	}
	protocols, err := x.internAtom("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	deleteWin, err := x.internAtom("WM_DELETE_WINDOW")
	if err != nil {
		return err
	}
	wmName, err := x.internAtom("WM_NAME")
	if err != nil {
		return err
	}
	kids, err := x.queryTree(root)
	if err != nil {
		return err
	}
	var seen []string
	for _, w := range kids {
		name, err := x.getProperty(w, wmName)
		if err != nil {
			return err
		}
		seen = append(seen, name)
		if !strings.Contains(name, title) {
			continue
		}
		ev := make([]byte, 32)
		ev[0], ev[1] = 33, 32 // ClientMessage, format 32
		binary.LittleEndian.PutUint32(ev[4:], w)
		binary.LittleEndian.PutUint32(ev[8:], protocols)
		binary.LittleEndian.PutUint32(ev[12:], deleteWin) // data.l[0]; l[1] = CurrentTime (0)
		req := make([]byte, 12, 44)
		req[0] = 25                                // SendEvent, propagate false
		binary.LittleEndian.PutUint16(req[2:], 11) // length in 4-byte units
		binary.LittleEndian.PutUint32(req[4:], w)  // destination; event mask 0: to the client that made it
		if _, err := x.w.Write(append(req, ev...)); err != nil {
			return err
		}
		x.seq++ // SendEvent has no reply but takes a sequence number
		// A round trip, so that an error about the SendEvent is read here.
		_, err = x.internAtom("WM_PROTOCOLS")
		return err
	}
	return fmt.Errorf("no top-level window titled %q among %q", title, seen)
}

type xconn struct {
	w   io.Writer
	r   *bufio.Reader
	seq uint16
}

func (x *xconn) setup() (root uint32, err error) {
	// 'l': little-endian, protocol 11.0, no authorisation.
	if _, err := x.w.Write([]byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		return 0, err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(x.r, head); err != nil {
		return 0, err
	}
	body := make([]byte, 4*int(binary.LittleEndian.Uint16(head[6:])))
	if _, err := io.ReadFull(x.r, body); err != nil {
		return 0, err
	}
	if head[0] != 1 {
		return 0, fmt.Errorf("X server refused the connection: %q", body)
	}
	vendorLen := int(binary.LittleEndian.Uint16(body[16:]))
	formats := int(body[21])
	off := 32 + (vendorLen+3)&^3 + 8*formats
	if off+4 > len(body) {
		return 0, errors.New("short X setup reply")
	}
	return binary.LittleEndian.Uint32(body[off:]), nil
}

// request sends one request and reads its reply, skipping events.
func (x *xconn) request(req []byte) ([]byte, error) {
	if _, err := x.w.Write(req); err != nil {
		return nil, err
	}
	x.seq++
	for {
		head := make([]byte, 32)
		if _, err := io.ReadFull(x.r, head); err != nil {
			return nil, err
		}
		switch head[0] {
		case 0:
			return nil, fmt.Errorf("X error %d on request %d", head[1], req[0])
		case 1:
			extra := make([]byte, 4*int(binary.LittleEndian.Uint32(head[4:])))
			if _, err := io.ReadFull(x.r, extra); err != nil {
				return nil, err
			}
			if binary.LittleEndian.Uint16(head[2:]) != x.seq {
				continue // the reply to an earlier request
			}
			return append(head, extra...), nil
		}
		// an event: skip it
	}
}

func (x *xconn) internAtom(name string) (uint32, error) {
	n := len(name)
	req := make([]byte, 8+(n+3)&^3)
	req[0] = 16 // InternAtom, only-if-exists false
	binary.LittleEndian.PutUint16(req[2:], uint16(len(req)/4))
	binary.LittleEndian.PutUint16(req[4:], uint16(n))
	copy(req[8:], name)
	rep, err := x.request(req)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(rep[8:]), nil
}

func (x *xconn) queryTree(w uint32) ([]uint32, error) {
	req := make([]byte, 8)
	req[0] = 15 // QueryTree
	binary.LittleEndian.PutUint16(req[2:], 2)
	binary.LittleEndian.PutUint32(req[4:], w)
	rep, err := x.request(req)
	if err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint16(rep[16:]))
	out := make([]uint32, 0, n)
	for i := 0; i < n && 32+4*i+4 <= len(rep); i++ {
		out = append(out, binary.LittleEndian.Uint32(rep[32+4*i:]))
	}
	return out, nil
}

// getProperty reads a window's 8-bit property (up to 256 bytes) as text.
func (x *xconn) getProperty(w, prop uint32) (string, error) {
	req := make([]byte, 24)
	req[0] = 20 // GetProperty, delete false
	binary.LittleEndian.PutUint16(req[2:], 6)
	binary.LittleEndian.PutUint32(req[4:], w)
	binary.LittleEndian.PutUint32(req[8:], prop)
	// type 0: any; long-offset 0; long-length 64 (×4 bytes)
	binary.LittleEndian.PutUint32(req[20:], 64)
	rep, err := x.request(req)
	if err != nil {
		return "", err
	}
	if rep[1] != 8 {
		return "", nil // unset, or not text
	}
	n := int(binary.LittleEndian.Uint32(rep[16:]))
	if 32+n > len(rep) {
		n = len(rep) - 32
	}
	return string(rep[32 : 32+n]), nil
}
