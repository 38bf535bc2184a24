package talkgroup

import (
	"testing"
	"time"

	"parley/identity"
)

func pid(b byte) identity.PeerID {
	var id identity.PeerID
	id[0] = b
	return id
}

// A race between two claims ends with the same holder whichever frame a
// member hears first.
func TestFloorRaceIsDeterministic(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a, b := Claim{Speaker: pid(2), TX: 100}, Claim{Speaker: pid(1), TX: 100} // tie: b's lower ID wins
	c := Claim{Speaker: pid(9), TX: 99}                                      // earlier claim beats both
	for _, order := range [][]Claim{{a, b, c}, {c, b, a}, {b, a, c}, {a, c, b}} {
		var f Floor
		for i, cl := range order {
			f.Audio(cl, t0.Add(time.Duration(i)*time.Millisecond))
		}
		for _, cl := range order { // more frames of each, interleaved
			f.Audio(cl, t0.Add(10*time.Millisecond))
		}
		if h, ok := f.Holder(); !ok || h != c {
			t.Fatalf("order %v: holder %v, want %v", order, h, c)
		}
	}
	var f Floor
	f.Audio(a, t0)
	if _, ch := f.Audio(b, t0); ch.Ended == nil || *ch.Ended != a || ch.Why != "preempted" || ch.Started == nil || *ch.Started != b {
		t.Fatalf("b over a: %+v", ch)
	}
	if ok, _ := f.Audio(a, t0); ok {
		t.Fatal("the preempted transmission took the floor back")
	}
}

func TestFloorQueueIsFIFO(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var f Floor
	holder := Claim{Speaker: pid(5), TX: 1}
	f.Audio(holder, t0)
	f.Request(Request{Peer: pid(3), At: 20})
	f.Request(Request{Peer: pid(1), At: 30})
	f.Request(Request{Peer: pid(2), At: 10})
	f.Request(Request{Peer: pid(3), At: 40}) // a repeat keeps its earlier place
	if f.Position(pid(2)) != 1 || f.Position(pid(3)) != 2 || f.Position(pid(1)) != 3 {
		t.Fatalf("queue %v", f.Queue())
	}
	if f.MayTake(pid(2)) {
		t.Fatal("head may take a held floor")
	}
	f.End(holder, t0.Add(time.Second))
	if !f.MayTake(pid(2)) || f.MayTake(pid(3)) {
		t.Fatal("the head, and only it, may take the free floor")
	}
	// The head does not start: dropped after GrantWait, the next may take.
	f.Tick(t0.Add(time.Second + GrantWait + time.Millisecond))
	if !f.MayTake(pid(3)) {
		t.Fatalf("after the head's grant ran out: queue %v", f.Queue())
	}
	// Taking the floor leaves the queue.
	f.Audio(Claim{Speaker: pid(3), TX: 50}, t0.Add(4*time.Second))
	if f.Position(pid(3)) != 0 || f.Position(pid(1)) != 1 {
		t.Fatalf("queue %v", f.Queue())
	}
	for i := range 2 * MaxQueue {
		f.Request(Request{Peer: pid(byte(100 + i)), At: uint64(100 + i)})
	}
	if len(f.Queue()) != MaxQueue {
		t.Fatalf("queue grew to %d", len(f.Queue()))
	}
}

func TestFloorTimeouts(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var f Floor
	a := Claim{Speaker: pid(1), TX: 1}
	f.Audio(a, t0)
	if ch := f.Tick(t0.Add(Silence / 2)); ch.Ended != nil {
		t.Fatal("ended early")
	}
	if ch := f.Tick(t0.Add(Silence + time.Millisecond)); ch.Ended == nil || ch.Why != "silence" {
		t.Fatalf("silent holder kept the floor: %+v", ch)
	}
	if ok, _ := f.Audio(a, t0.Add(2*Silence)); ok {
		t.Fatal("a late frame of the ended transmission took the floor")
	}
	// A speaker that keeps talking is cut at MaxTalk.
	b := Claim{Speaker: pid(2), TX: 2}
	now := t0.Add(10 * time.Second)
	f.Audio(b, now)
	var ch Change
	for d := time.Duration(0); d < MaxTalk+2*Silence && ch.Ended == nil; d += 20 * time.Millisecond {
		if ok, _ := f.Audio(b, now.Add(d)); !ok && d <= MaxTalk {
			t.Fatalf("frame at %v refused", d)
		}
		ch = f.Tick(now.Add(d))
	}
	if ch.Ended == nil || ch.Why != "max_talk" {
		t.Fatalf("endless transmission: %+v", ch)
	}
	// An end that overtakes the audio keeps that audio off the floor.
	c := Claim{Speaker: pid(3), TX: 3}
	f.End(c, now)
	if ok, _ := f.Audio(c, now); ok {
		t.Fatal("audio after its end took the floor")
	}
}

// Every member is reached exactly once, nobody sends more than k copies, and
// 255 members are at most three hops from the speaker.
func TestTreeCoversEveryMemberOnce(t *testing.T) {
	for _, k := range []int{1, 2, 8} {
		for n := 0; n <= MaxTree; n++ {
			if k == 1 && n > 40 {
				break
			}
			list := make([]identity.PeerID, n)
			for i := range list {
				list[i] = pid(byte(i))
				list[i][1] = byte(i >> 8)
				list[i][2] = 1
			}
			got := map[identity.PeerID]int{}
			depth := map[identity.PeerID]int{}
			var walk func(kids []identity.PeerID, d int)
			walk = func(kids []identity.PeerID, d int) {
				if len(kids) > k {
					t.Fatalf("k=%d n=%d: %d children", k, n, len(kids))
				}
				for _, c := range kids {
					got[c]++
					depth[c] = d
					walk(Children(list, c, k), d+1)
				}
			}
			walk(RootChildren(list, k), 1)
			for _, id := range list {
				if got[id] != 1 {
					t.Fatalf("k=%d n=%d: %v reached %d times", k, n, id, got[id])
				}
				if k == 8 && depth[id] > 3 {
					t.Fatalf("n=%d: depth %d", n, depth[id])
				}
			}
			for _, f := range Forwarders(list, k) {
				if len(Children(list, f, k)) == 0 {
					t.Fatalf("k=%d n=%d: forwarder %v has no children", k, n, f)
				}
			}
			if nf := len(Forwarders(list, k)); nf < len(list) && len(Children(list, list[nf], k)) != 0 {
				t.Fatalf("k=%d n=%d: member %d forwards but gets no tree", k, n, nf)
			}
		}
	}
}

func TestSeenWindow(t *testing.T) {
	var s seen
	for _, seq := range []uint32{5, 6, 8, 7} {
		if !s.add(seq) {
			t.Fatalf("%d refused", seq)
		}
	}
	for _, seq := range []uint32{5, 6, 7, 8} {
		if s.add(seq) {
			t.Fatalf("duplicate %d taken", seq)
		}
	}
	if !s.add(200) || s.add(100) {
		t.Fatal("window")
	}
}
