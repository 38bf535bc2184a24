//go:build linux

package linkquality

import (
	"encoding/binary"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// readBSSID asks the kernel over generic netlink (nl80211) which access point
// iface is associated with: the family's ID from the controller, then a dump of
// the interface's scan results, of which the associated one is marked. It costs
// one socket and two requests; the monitor does it at most every linkTypeEvery
// (30 s). Any failure (no nl80211, not wireless, not associated) is unknown.
func readBSSID(iface string) ([6]byte, bool) {
	var none [6]byte
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return none, false
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		return none, false
	}
	defer unix.Close(fd)
	// A kernel that does not answer must not hold the monitor's tick.
	tv := unix.Timeval{Sec: 1}
	if unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv) != nil ||
		unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}) != nil {
		return none, false
	}
	name := append([]byte("nl80211"), 0)
	if !genlSend(fd, unix.GENL_ID_CTRL, unix.CTRL_CMD_GETFAMILY, unix.NLM_F_REQUEST, 1, unix.CTRL_ATTR_FAMILY_NAME, name) {
		return none, false
	}
	var family uint16
	genlRecv(fd, 1, func(typ uint16, genl []byte) bool {
		if len(genl) >= genlHeaderLen {
			forAttrs(genl[genlHeaderLen:], func(t uint16, v []byte) {
				if t == unix.CTRL_ATTR_FAMILY_ID && len(v) == 2 {
					family = binary.NativeEndian.Uint16(v)
				}
			})
		}
		return false
	})
	if family == 0 {
		return none, false
	}
	idx := binary.NativeEndian.AppendUint32(nil, uint32(ifi.Index))
	if !genlSend(fd, family, unix.NL80211_CMD_GET_SCAN, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, 2, unix.NL80211_ATTR_IFINDEX, idx) {
		return none, false
	}
	var bssid [6]byte
	found := false
	genlRecv(fd, 2, func(typ uint16, genl []byte) bool {
		if typ == family && !found {
			bssid, found = associatedBSSID(genl)
		}
		return true // read the dump to its end
	})
	return bssid, found
}

// genlSend sends one generic-netlink request with one attribute.
func genlSend(fd int, family uint16, cmd uint8, flags uint16, seq uint32, attr uint16, val []byte) bool {
	alen := 4 + len(val)
	n := unix.SizeofNlMsghdr + genlHeaderLen + (alen+3)&^3
	b := make([]byte, 0, n)
	b = binary.NativeEndian.AppendUint32(b, uint32(n))
	b = binary.NativeEndian.AppendUint16(b, family)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0) // port: the kernel fills it in
	b = append(b, cmd, 1, 0, 0)                // genl header: command, version 1
	b = binary.NativeEndian.AppendUint16(b, uint16(alen))
	b = binary.NativeEndian.AppendUint16(b, attr)
	b = append(b, val...)
	b = append(b, make([]byte, n-len(b))...)
	return unix.Sendto(fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}) == nil
}

// genlMaxReads bounds how many datagrams one reply may take (a scan dump of a
// busy neighbourhood is a few dozen entries, several per datagram).
const genlMaxReads = 64

// genlRecv reads the reply to seq, handing each message's type and payload to
// fn until fn returns false, the reply ends (NLMSG_DONE, an error, or a message
// that is not part of a multi-part reply), or genlMaxReads datagrams were read.
func genlRecv(fd int, seq uint32, fn func(typ uint16, payload []byte) bool) {
	buf := make([]byte, 32<<10)
	for range genlMaxReads {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil || n < unix.SizeofNlMsghdr {
			return
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return
		}
		for _, m := range msgs {
			if m.Header.Seq != seq {
				continue
			}
			if m.Header.Type == unix.NLMSG_DONE || m.Header.Type == unix.NLMSG_ERROR {
				return
			}
			if !fn(m.Header.Type, m.Data) || m.Header.Flags&unix.NLM_F_MULTI == 0 {
				return
			}
		}
	}
}
