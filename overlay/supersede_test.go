package overlay

import (
	"net"
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
)

// A link that lost the tie-break writes everything queued before its
// superseded frame, then closes once its queue is drained, well before the
// one-second bound.
func TestSupersedeFlushesThenCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		near, far := net.Pipe()
		defer far.Close()
		l := newLink(near, identity.PeerID{1}, nil, true, time.Now())
		go l.writeLoop()
		for i := range 3 {
			if err := l.send(TypePing, []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		supersede(l, true)
		fr := newFrameReader(far)
		var got []uint8
		for {
			f, err := fr.Next()
			if err != nil {
				break
			}
			got = append(got, f.Type)
		}
		if len(got) != 4 || got[3] != TypeSuperseded {
			t.Fatalf("peer read frame types %v, want three frames then %d", got, TypeSuperseded)
		}
		select {
		case <-l.closed:
		default:
			t.Fatal("link still open after its superseded frame was written")
		}
		if waited := time.Since(start); waited >= supersedeFlush {
			t.Fatalf("closed after %v: the backstop, not the writer, ended it", waited)
		}
	})
}
