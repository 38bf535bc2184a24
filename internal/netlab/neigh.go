package netlab

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// RoomForNeighbours raises the kernel's neighbour-table limits for a lab of n
// hosts on one bridge (cmd/benchhall, cmd/benchptt). The ARP and NDP tables are
// one per kernel, shared by every namespace: n hosts on one bridge hold about n²
// entries (each knows the others), and past gc_thresh3 (1,024 by default, so ~32
// hosts) the kernel drops entries, packets wait for addresses it no longer
// resolves, and TCP dials time out. A real hall of n laptops has n tables of n
// entries; this makes the lab behave like one. restore puts the old values back.
func RoomForNeighbours(n int) (restore func(), err error) {
	var undo []func()
	restore = func() {
		for _, u := range slices.Backward(undo) {
			u()
		}
	}
	need := 4 * n * n
	for _, fam := range []string{"ipv4", "ipv6"} {
		for i, name := range []string{"gc_thresh1", "gc_thresh2", "gc_thresh3"} {
			path := fmt.Sprintf("/proc/sys/net/%s/neigh/default/%s", fam, name)
			old, err := os.ReadFile(path)
			if err != nil {
				restore()
				return nil, err
			}
			cur, _ := strconv.Atoi(strings.TrimSpace(string(old)))
			want := need * (i + 1) / 3
			if cur >= want {
				continue
			}
			if err := os.WriteFile(path, []byte(strconv.Itoa(want)), 0o644); err != nil {
				restore()
				return nil, err
			}
			undo = append(undo, func() { os.WriteFile(path, old, 0o644) })
		}
	}
	return restore, nil
}
