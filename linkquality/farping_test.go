package linkquality

import (
	"crypto/ed25519"
	"testing"
	"time"

	"parley/identity"
	"parley/overlay"
	"parley/selection"
	"parley/vivaldi"
)

// farRecord is a record of a peer with a published coordinate.
func farRecord(t testing.TB, c vivaldi.Coord) *overlay.Record {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := selection.EncodeSelf(selection.SelfMetrics{Coord: c})
	if err != nil {
		t.Fatal(err)
	}
	return &overlay.Record{PubKey: pub, Seq: 1, Extensions: []overlay.Extension{{Type: selection.ExtensionType, Value: b}}}
}

// farMonitor is a monitor on a settable clock, with two neighbours and one far
// peer that published a coordinate 40 ms away.
func farMonitor(t testing.TB) (*Monitor, *fakeOverlay, *time.Time, identity.PeerID) {
	t.Helper()
	now := time.Unix(1_000_000, 0)
	q, ov, _, _ := newFake(t.(*testing.T), Config{Now: func() time.Time { return now }})
	far := farRecord(t, vivaldi.Coord{X: 40, Error: 0.2})
	near := farRecord(t, vivaldi.Coord{X: 1, Error: 0.2})
	ov.all = []*overlay.Record{far, near}
	ov.records[far.ID()] = far
	ov.links = append(ov.links, overlay.LinkInfo{Peer: near.ID(), Since: now}) // a neighbour: never a target
	return q, ov, &now, far.ID()
}

// A far sample pings one non-neighbour three times, a second apart, and moves
// the coordinate by the median; a pong that does not echo the outstanding nonce,
// or comes from another peer, is counted and ignored.
func TestFarPingSample(t *testing.T) {
	q, ov, now, far := farMonitor(t)
	start := q.Coord()
	rtts := []time.Duration{80 * time.Millisecond, 900 * time.Millisecond, 90 * time.Millisecond}
	for i := 0; len(ov.sent) < vivaldi.FarPings && i < 100; i++ {
		q.farPingTick()
		*now = now.Add(time.Second)
		if n := len(ov.sent); n > 0 && ov.sent[n-1].typ == TypeFarPing && q.far.sentAt.Equal(now.Add(-time.Second)) {
			last := ov.sent[n-1]
			if last.to != far {
				t.Fatalf("far ping to %v, want the non-neighbour %v", last.to.Short(), far.Short())
			}
			q.OnFarPong(far, []byte("12345678"))     // a guessed nonce
			q.OnFarPong(peer(1), last.payload)       // the right nonce from another peer
			*now = now.Add(-time.Second + rtts[n-1]) // the pong after the sample's RTT
			q.OnFarPong(far, last.payload)
			*now = now.Add(time.Second - rtts[n-1])
		}
	}
	if len(ov.sent) != vivaldi.FarPings {
		t.Fatalf("%d far pings sent, want %d", len(ov.sent), vivaldi.FarPings)
	}
	q.farPingTick()
	st := q.Stats()
	if st["farping_samples"] != 1 || st["farping_pong_unmatched"] != 2*vivaldi.FarPings {
		t.Fatalf("stats %v", st)
	}
	if got := q.Coord(); got == start || got.X >= 0 {
		// The median (90 ms) pushes us away from the far peer at X = 40; the
		// 900 ms outlier would throw us to hundreds of ms.
		t.Fatalf("coordinate %+v after a sample against X=40 at 90 ms (was %+v)", got, start)
	} else if d := got.DistanceTo(vivaldi.Coord{X: 40}); d > 100*time.Millisecond {
		t.Fatalf("coordinate %+v is %v from the far peer: the outlier was used", got, d)
	}
}

// Pings are answered within the budget: a burst of 6, then one a second; the
// rest are dropped and counted. Malformed frames are dropped unanswered.
func TestFarPingAnswersAreBounded(t *testing.T) {
	q, ov, now, far := farMonitor(t)
	for range 20 {
		q.OnFarPing(far, []byte("abcdefgh"))
	}
	q.OnFarPing(far, []byte("short"))
	q.OnFarPong(far, make([]byte, 9))
	*now = now.Add(2 * time.Second)
	for range 5 {
		q.OnFarPing(far, []byte("abcdefgh"))
	}
	st := q.Stats()
	if st["farping_answered"] != 8 || st["farping_answer_dropped"] != 17 || st["farping_drop_malformed"] != 2 {
		t.Fatalf("stats %v", st)
	}
	if len(ov.sent) != 8 || ov.sent[0].typ != TypeFarPong || string(ov.sent[0].payload) != "abcdefgh" || ov.sent[0].to != far {
		t.Fatalf("sent %+v", ov.sent)
	}
}

// No frame makes the handlers panic or answer beyond the budget, and no pong is
// taken without the nonce of the ping outstanding.
func FuzzFarFrames(f *testing.F) {
	f.Add([]byte("abcdefgh"), true)
	f.Add([]byte{}, false)
	f.Add(make([]byte, 9), true)
	f.Fuzz(func(t *testing.T, payload []byte, ping bool) {
		q, ov, _, far := farMonitor(t)
		for range 10 {
			if ping {
				q.OnFarPing(far, payload)
			} else {
				q.OnFarPong(far, payload)
			}
		}
		if len(ov.sent) > int(farAnswerBurst) {
			t.Fatalf("%d answers to 10 pings at one instant", len(ov.sent))
		}
		if len(q.far.rtts) != 0 {
			t.Fatal("a pong was taken with no ping outstanding")
		}
	})
}
