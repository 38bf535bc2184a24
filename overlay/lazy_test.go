package overlay

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"parley/identity"
)

var recordRefCases = []struct {
	name    string
	payload []byte
	want    []recordRef
	ok      bool
}{
	{"one", appendRecordRefs(nil, []recordRef{{ID: identity.PeerID{1}, Seq: 7}}), []recordRef{{ID: identity.PeerID{1}, Seq: 7}}, true},
	{"two", appendRecordRefs(nil, []recordRef{{ID: identity.PeerID{1}, Seq: 1 << 60}, {ID: identity.PeerID{15: 9}, Seq: 0}}),
		[]recordRef{{ID: identity.PeerID{1}, Seq: 1 << 60}, {ID: identity.PeerID{15: 9}, Seq: 0}}, true},
	{"empty", nil, nil, false},
	{"short", make([]byte, recordRefLen-1), nil, false},
	{"ragged", append(appendRecordRefs(nil, []recordRef{{ID: identity.PeerID{1}, Seq: 1}}), 0), nil, false},
	{"zero ID", make([]byte, recordRefLen), nil, false},
	{"too many", bytes.Repeat(appendRecordRefs(nil, []recordRef{{ID: identity.PeerID{1}, Seq: 1}}), maxRecordRefs+1), nil, false},
	{"most", bytes.Repeat(appendRecordRefs(nil, []recordRef{{ID: identity.PeerID{2}, Seq: 3}}), maxRecordRefs), nil, true},
}

func TestDecodeRecordRefs(t *testing.T) {
	for _, c := range recordRefCases {
		got, err := decodeRecordRefs(c.payload)
		if c.ok != (err == nil) {
			t.Errorf("%s: err %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if err != nil && !errors.Is(err, errRecordRefs) {
			t.Errorf("%s: err %v does not wrap errRecordRefs", c.name, err)
		}
		if c.want != nil && fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		if c.ok && !bytes.Equal(appendRecordRefs(nil, got), c.payload) {
			t.Errorf("%s: does not re-encode to its input", c.name)
		}
	}
}

func FuzzDecodeRecordRefs(f *testing.F) {
	for _, c := range recordRefCases {
		f.Add(c.payload)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		refs, err := decodeRecordRefs(p)
		if err != nil {
			return
		}
		if len(refs) == 0 || len(refs) > maxRecordRefs || !bytes.Equal(appendRecordRefs(nil, refs), p) {
			t.Fatalf("%d refs from %d bytes, or not re-encoded to the input", len(refs), len(p))
		}
	})
}

// pulls is canPull for tests, which do not hold the lock.
func (o *Overlay) pulls(peer identity.PeerID) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.canPull(peer)
}

func signedRecord(t *testing.T, author *identity.Identity, seq uint64, name string) []byte {
	t.Helper()
	r := &Record{Seq: seq, Name: name}
	if err := r.Sign(author); err != nil {
		t.Fatal(err)
	}
	return r.Raw()
}

// A node told by reference of a record it lacks asks the teller for it once the
// grace for a full copy has passed, and accepts what comes back.
func TestRecordHaveIsPulled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		b := startMemNode(t, n, 2, "bob", nil)
		p := dialRaw(t, 50, b)
		carol := testIdentity(t, 61)
		p.roundTrip(1)
		p.write(AppendFrame(nil, TypeRecordHave, appendRecordRefs(nil, []recordRef{{ID: carol.ID, Seq: 10}})))
		begin := time.Now()
		f := p.readUntil("a want", func(f Frame) bool { return f.Type == TypeRecordWant })
		if d := time.Since(begin); d < wantGrace-lazyTick {
			t.Errorf("want sent after %v, before the %v grace", d, wantGrace)
		}
		refs, err := decodeRecordRefs(f.Payload)
		if err != nil || len(refs) != 1 || refs[0] != (recordRef{ID: carol.ID, Seq: 10}) {
			t.Fatalf("want %v (%v), want carol at 10", refs, err)
		}
		p.write(AppendFrame(nil, TypeRecord, signedRecord(t, carol, 10, "carol")))
		p.roundTrip(2)
		if rec := b.ov.RecordOf(carol.ID); rec == nil || rec.Seq != 10 {
			t.Fatalf("bob holds %+v after the pull", rec)
		}
		// Once held, a reference to the same or an older record asks for nothing.
		before := b.ov.Stats()["record_want_sent"]
		p.write(AppendFrame(nil, TypeRecordHave, appendRecordRefs(nil, []recordRef{{ID: carol.ID, Seq: 10}, {ID: carol.ID, Seq: 9}})))
		p.roundTrip(3)
		// Past a retry too (virtual time, so it costs nothing): a want kept for
		// the held record would be asked again by then.
		time.Sleep(wantRetry + wantGrace + 3*lazyTick)
		if after := b.ov.Stats()["record_want_sent"]; after != before {
			t.Fatalf("record_want_sent went %d → %d for records already held", before, after)
		}
	})
}

// Wants are answered with the records held at that sequence or newer, and only up
// to a budget; a malformed list is dropped and counted, and the link stays.
func TestRecordWantIsAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		b := startMemNode(t, n, 2, "bob", nil)
		p := dialRaw(t, 50, b)
		carol := testIdentity(t, 61)
		p.write(AppendFrame(nil, TypeRecord, signedRecord(t, carol, 10, "carol")))
		p.roundTrip(1)
		p.write(AppendFrame(nil, TypeRecordWant, appendRecordRefs(nil, []recordRef{
			{ID: carol.ID, Seq: 11},          // newer than held: nothing
			{ID: identity.PeerID{7}, Seq: 1}, // unknown: nothing
			{ID: carol.ID, Seq: 10},          // held: sent
			{ID: b.id.ID, Seq: 1},            // bob's own: sent
		})))
		got := map[identity.PeerID]uint64{}
		for len(got) < 2 {
			f := p.readUntil("a record", func(f Frame) bool { return f.Type == TypeRecord })
			rec, err := DecodeRecord(f.Payload)
			if err != nil {
				t.Fatal(err)
			}
			got[rec.ID()] = rec.Seq
		}
		if got[carol.ID] != 10 || got[b.id.ID] == 0 {
			t.Fatalf("answered with %v, want carol at 10 and bob's own", got)
		}
		// The count is added after the sends: let bob's handler finish first
		// (read at once, it was 0 in one make test run at load ~10).
		synctest.Wait()
		if n := b.ov.Stats()["record_want_answered"]; n != 2 {
			t.Fatalf("record_want_answered = %d, want 2", n)
		}

		p.write(AppendFrame(nil, TypeRecordWant, []byte("not a list")))
		many := bytes.Repeat(appendRecordRefs(nil, []recordRef{{ID: carol.ID, Seq: 1}}), maxRecordRefs)
		for range wantBurst/maxRecordRefs + 1 {
			p.write(AppendFrame(nil, TypeRecordWant, many))
		}
		p.roundTrip(2)
		st := b.ov.Stats()
		if st["record_want_malformed"] != 1 || st["record_want_limited"] == 0 {
			t.Fatalf("record_want_malformed %d, record_want_limited %d; want 1 and some", st["record_want_malformed"], st["record_want_limited"])
		}
		if !b.ov.Linked(p.id.ID) {
			t.Fatal("bad or excessive wants cost the link")
		}
	})
}

// In a full mesh every node has an author's record from the author itself, so the
// others pass it on by reference only, and to a few links only: no node receives
// a second full copy. Before
// lazy push every node received one copy per link.
func TestFullMeshSendsEachRecordOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		const count = 6
		nodes := make([]*testNode, count)
		for i := range nodes {
			nodes[i] = startMemNode(t, n, byte(i+1), fmt.Sprintf("n%d", i), nil)
		}
		for i := range nodes {
			for j := i + 1; j < count; j++ {
				linkBoth(t, nodes[i], nodes[j])
			}
		}
		// Wait until everyone holds everyone's record listing the full mesh, so that
		// every forwarder knows the others pull and whom the author is linked to.
		waitUntil(t, "the full mesh in every record", func() bool {
			for _, a := range nodes {
				for _, b := range nodes {
					if a == b {
						continue
					}
					r := a.ov.RecordOf(b.id.ID)
					if r == nil || len(r.Neighbours) != count-1 || !a.ov.pulls(b.id.ID) {
						return false
					}
				}
			}
			return true
		})
		time.Sleep(wantGrace + 3*lazyTick) // let the set-up's wants settle
		before := make([]map[string]uint64, count)
		for i, x := range nodes {
			before[i] = x.ov.Stats()
		}
		author := nodes[0]
		const updates = 5
		for k := range updates {
			if err := author.ov.SetProfile(Profile{Name: "n0", Status: fmt.Sprint("update ", k)}); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprint("update ", k)
			waitUntil(t, "every node to hold "+want, func() bool {
				for _, x := range nodes[1:] {
					if r := x.ov.RecordOf(author.id.ID); r == nil || r.Status != want {
						return false
					}
				}
				return true
			})
		}
		time.Sleep(3 * lazyTick) // the references of the last update
		var dup, have uint64
		for i, x := range nodes[1:] {
			st := x.ov.Stats()
			dup += st["record_duplicate"] - before[i+1]["record_duplicate"]
			have += st["record_have_sent"] - before[i+1]["record_have_sent"]
		}
		t.Logf("%d updates in a %d-node mesh: %d duplicate full copies, %d references sent", updates, count, dup, have)
		if dup != 0 {
			t.Errorf("%d duplicate full copies; every node should have had each update once", dup)
		}
		if have == 0 {
			t.Error("no references sent: the forwarders did not pass the updates on at all")
		}
		// Each forwarder's links all go to peers the author lists, which had the
		// update from it: only lazyRepair of them get a reference.
		if most := uint64(updates * (count - 1) * lazyRepair); have > most {
			t.Errorf("%d references sent, want at most %d (lazyRepair per forwarder per update)", have, most)
		}
	})
}

// A hub with more leaves than the eager fanout: a star is its own tree, so no leaf
// ever has a second copy to prune, and the hub sends each update in full to every
// leaf (prune.go) rather than to eagerFanout of them with the rest pulling: no
// leaf asks. (Before pruning, exactly the leaves beyond the fanout asked.)
func TestStarPullsBeyondTheFanout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		const leaves = eagerFanout + 3
		hub := startMemNode(t, n, 1, "hub", nil)
		nodes := make([]*testNode, leaves)
		for i := range nodes {
			nodes[i] = startMemNode(t, n, byte(i+2), fmt.Sprintf("leaf%d", i), nil)
			linkBoth(t, nodes[i], hub)
		}
		waitUntil(t, "every leaf to know every other pulls", func() bool {
			for _, x := range append(nodes, hub) {
				for _, y := range append(nodes, hub) {
					if x != y && !x.ov.pulls(y.id.ID) {
						return false
					}
				}
			}
			return true
		})
		time.Sleep(wantGrace + 3*lazyTick)
		author, others := nodes[0], nodes[1:]
		before := map[*testNode]uint64{}
		for _, x := range others {
			before[x] = x.ov.Stats()["record_want_sent"]
		}
		if err := author.ov.SetProfile(Profile{Name: "leaf0", Status: "pulled"}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "every leaf to hold the update", func() bool {
			for _, x := range others {
				if r := x.ov.RecordOf(author.id.ID); r == nil || r.Status != "pulled" {
					return false
				}
			}
			return true
		})
		var asked int
		for _, x := range others {
			asked += int(x.ov.Stats()["record_want_sent"] - before[x])
		}
		if asked != 0 {
			t.Fatalf("%d leaves asked for the update, want none: the hub sends in full down every unpruned link", asked)
		}
	})
}

// A reference to a blocked author's record is not pulled: the record would only be
// dropped on arrival.
func TestRecordHaveOfBlockedAuthorIsIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		carol := testIdentity(t, 61)
		b := startMemNode(t, n, 2, "bob", func(c *Config) {
			c.Refuse = func(id identity.PeerID) bool { return id == carol.ID }
		})
		p := dialRaw(t, 50, b)
		p.write(AppendFrame(nil, TypeRecordHave, appendRecordRefs(nil, []recordRef{{ID: carol.ID, Seq: 10}})))
		p.roundTrip(1)
		time.Sleep(wantGrace + 3*lazyTick)
		if n := b.ov.Stats()["record_want_sent"]; n != 0 {
			t.Fatalf("record_want_sent = %d for a blocked author", n)
		}
	})
}
