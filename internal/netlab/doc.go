// Package netlab builds throw-away multi-host networks on one Linux machine
// out of network namespaces, and runs and drives the real parley binary
// inside them. Integration tests and the benchmark program use it; it needs
// root (see RequireRoot) and iproute2.
//
// # Topology
//
// Every Lab owns one "switch" namespace. Each Segment is a Linux bridge inside
// that switch namespace (multicast snooping off, so multicast floods like on a
// dumb switch). Each Host is its own namespace with one veth pair per segment
// it is attached to: the host end is called eth0, eth1, ... (in the order the
// segments were passed to AddHost), the other end lives in the switch
// namespace, enslaved to the segment's bridge. Nothing is created in, or
// routed through, the root namespace, so a lab cannot touch the machine's own
// network, and labs in the same or in concurrent processes cannot see each
// other.
//
//	           switch ns (prl<pid>x<n>-sw)
//	    ┌────────── br1 ──────────┐   ┌──── br2 ────┐
//	  h1e0                      h2e0  h2e1          h3e0
//	    │                         │     │             │
//	  eth0                      eth0  eth1          eth0
//	 host 1                       host 2           host 3
//	10.77.1.11           10.77.1.12 / 10.77.2.12   10.77.2.13
//
// # Address plan
//
// Segment k (1-based, in creation order) is 10.77.k.0/24. Host i (1-based, in
// creation order) gets 10.77.k.(i+10) on every segment it is attached to.
// Hosts never forward (ip_forward stays 0 in fresh namespaces) and have no
// default route, so a host only reaches hosts that share a segment with it.
// Each host has lo up, IPv6 link-local addresses (DAD disabled so they are
// usable at once) and a 224.0.0.0/4 route on its first interface so IPv4
// multicast leaves through it.
//
// # Names and cleanup
//
// Namespace names start with "prl<pid>x<n>", where pid is the creating
// process and n a per-process lab counter, so they are unique across labs and
// concurrent processes and identifiable afterwards. Close kills the processes
// the lab started and deletes its namespaces (which deletes the veths and
// bridges with them). SweepStale removes leftovers of crashed earlier runs:
// only prl-namespaces whose embedded pid is no longer alive.
//
// Per-process files (the built binary, process logs) live under
// $TMPDIR/prl<pid>/; Close removes its lab's logs unless NETLAB_KEEP_LOGS is
// set, and SweepStale removes the directories of dead processes.
//
// # Driving a process
//
// A Proc speaks the headless protocol through the typed client it embeds
// (package parley/headless/client): p.Send(to, text), p.Join(room),
// p.Within(d).SendFile(…) send one command each and take its answer by its
// "req". Every stdout line is also kept as an Event (a decoded JSON object)
// for WaitEvent and WaitEventAny; the client's answers among them are marked
// consumed. SendRaw and Request are for hand-made lines only: a test's own
// "req", a deliberately malformed command.
package netlab
