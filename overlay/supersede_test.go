package overlay

import (
	"net"
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
)

// supersededPipe starts the writer of a link over an in-memory pipe and
// returns the link and a reader of what its peer receives.
func supersededPipe(t *testing.T) (*Link, *frameReader) {
	near, far := net.Pipe()
	t.Cleanup(func() { far.Close() })
	l := newLink(near, identity.PeerID{1}, nil, true, time.Now())
	go l.writeLoop()
	return l, newFrameReader(far)
}

// A link that lost the tie-break writes everything queued before its
// superseded frame, then the frame, and closes supersedeLinger after that: not
// at once (which could reset the connection under frames the peer is still
// sending, see supersedeLinger) and not at the one-second backstop. A frame
// queued during the linger still goes out, as it did when a loop polled the
// queue.
func TestSupersedeFlushesThenCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, fr := supersededPipe(t)
		for i := range 3 {
			if err := l.send(TypePing, []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		supersede(l, true)
		var got []uint8
		var supersededAt time.Time
		for {
			f, err := fr.Next()
			if err != nil {
				break
			}
			got = append(got, f.Type)
			if f.Type == TypeSuperseded {
				supersededAt = time.Now()
				if err := l.send(TypePong, []byte{9}); err != nil {
					t.Fatalf("send during the linger: %v", err)
				}
			}
		}
		closedAt := time.Now()
		want := []uint8{TypePing, TypePing, TypePing, TypeSuperseded, TypePong}
		if string(got) != string(want) {
			t.Fatalf("peer read frame types %v, want %v", got, want)
		}
		select {
		case <-l.Done():
		default:
			t.Fatal("link still open after the peer read EOF")
		}
		if d := closedAt.Sub(supersededAt); d != supersedeLinger {
			t.Fatalf("closed %v after the superseded frame was read, want %v", d, supersedeLinger)
		}
	})
}

// A superseded link whose peer does not read is closed by the backstop,
// supersedeFlush + supersedeLinger after supersede.
func TestSupersedeBackstopClosesStuckLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, _ := supersededPipe(t)
		start := time.Now()
		supersede(l, true)
		<-l.Done()
		if d := time.Since(start); d != supersedeFlush+supersedeLinger {
			t.Fatalf("closed after %v, want %v", d, supersedeFlush+supersedeLinger)
		}
	})
}

// A superseded frame that does not fit a full queue is not sent, but what is
// queued still goes out, and the link closes supersedeLinger after the last of
// it (as the polling version did), not at once and not at the backstop.
func TestSupersedeFullQueueDrainsThenCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		near, far := net.Pipe()
		defer far.Close()
		l := newLink(near, identity.PeerID{1}, nil, true, time.Now())
		queued := 0
		for l.send(TypePing, []byte{1}) == nil {
			queued++
		}
		supersede(l, true)
		go l.writeLoop()
		fr := newFrameReader(far)
		read := 0
		var lastAt time.Time
		for {
			f, err := fr.Next()
			if err != nil {
				break
			}
			if f.Type != TypePing {
				t.Fatalf("frame type %d after a full queue, want pings only", f.Type)
			}
			read++
			lastAt = time.Now()
		}
		if read != queued {
			t.Fatalf("peer read %d of %d queued frames", read, queued)
		}
		if d := time.Since(lastAt); d != supersedeLinger {
			t.Fatalf("closed %v after the last frame, want %v", d, supersedeLinger)
		}
	})
}
