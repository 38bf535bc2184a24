package overlay

import (
	"bytes"
	"testing"
	"time"

	"parley/identity"
)

// A node with small link buffers (Config.LinkBuffer, a guest's node) still
// carries frames far larger than them, both ways, to a node with the default.
func TestSmallLinkBuffersCarryLargeFrames(t *testing.T) {
	const small = 4 << 10
	a := startNodeCfg(t, 1, "a", func(c *Config) { c.LinkBuffer = small }, nil)
	b := startNode(t, 2, "b")
	got := map[string]chan []byte{"a": make(chan []byte, 1), "b": make(chan []byte, 1)}
	a.ov.Handle(FirstAppType, func(_ identity.PeerID, p []byte) { got["a"] <- bytes.Clone(p) })
	b.ov.Handle(FirstAppType, func(_ identity.PeerID, p []byte) { got["b"] <- bytes.Clone(p) })
	dial(t, a, b)
	waitUntil(t, "both ends linked", func() bool { return a.ov.Link(b.id.ID) != nil && b.ov.Link(a.id.ID) != nil })
	if n := a.ov.Link(b.id.ID).bufferSize(); n != small {
		t.Errorf("a's link buffers are %d bytes, want %d", n, small)
	}
	if n := b.ov.Link(a.id.ID).bufferSize(); n != defaultLinkBuffer {
		t.Errorf("b's link buffers are %d bytes, want the default %d", n, defaultLinkBuffer)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 40<<10/16*10) // 400 KiB
	if err := a.ov.Send(b.id.ID, FirstAppType, big); err != nil {
		t.Fatal(err)
	}
	if err := b.ov.Send(a.id.ID, FirstAppType, big); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"a", "b"} {
		select {
		case p := <-got[who]:
			if !bytes.Equal(p, big) {
				t.Errorf("%s received %d bytes, not the frame sent", who, len(p))
			}
		case <-time.After(waitLimit):
			t.Fatalf("%s received nothing", who)
		}
	}
}
