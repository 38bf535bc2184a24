package overlay

import (
	"testing"

	"parley/identity"
)

// What the overlay can and cannot tell about a routed frame's source (issue 16
// #6). Carol blocks alice; alice reaches carol only through bob.
//
//   - A frame that names alice as its source is dropped at carol and counted
//     (route_drop_blocked): a cheap pre-filter, sound because an honest frame
//     names its true source, so only alice's own frames, or frames forged in her
//     name (which any hop could drop anyway), are lost.
//   - A frame alice sends naming someone else as its source is delivered, with
//     the forged source: no hop can check it. Whether to accept its content is
//     decided by the service, on the sealed sender inside the payload.
func TestRoutedSourceIsOnlyAHint(t *testing.T) {
	inC := make(chan routedMsg, 16)
	var blocked identity.PeerID
	a := startNode(t, 1, "alice")
	blocked = a.id.ID
	b := startNode(t, 2, "bob")
	c := startNodeCfg(t, 3, "carol", func(cfg *Config) {
		cfg.Refuse = func(id identity.PeerID) bool { return id == blocked }
	}, routedInbox(inC))
	dial(t, a, b)
	dial(t, c, b)
	waitUntil(t, "bob to route to carol", func() bool { _, ok := b.ov.NextHop(c.id.ID); return ok })
	l := a.ov.Link(b.id.ID)
	send := func(src identity.PeerID, body string) {
		t.Helper()
		if err := l.send(TypeRouted, appendRouted(nil, routedHeader{TTL: 4, Dst: c.id.ID, Src: src, Type: FirstAppType}, []byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	send(a.id.ID, "in her own name")
	waitStat(t, c, "route_drop_blocked", 1)
	stranger := testIdentity(t, 99).ID
	send(stranger, "in a stranger's name")
	m := recvRouted(t, inC, "the frame with a forged source")
	if m.src != stranger || m.via != b.id.ID || m.payload != "in a stranger's name" {
		t.Fatalf("carol got %+v", m)
	}
	select {
	case m := <-inC:
		t.Fatalf("carol got a second frame %+v: the one in alice's name was not dropped", m)
	default:
	}
}
