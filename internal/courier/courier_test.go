package courier

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"parley/identity"
	"parley/internal/counters"
	"parley/internal/seal"
)

func testID(t testing.TB, seed byte) *identity.Identity {
	t.Helper()
	id, err := identity.FromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type sent struct {
	to     identity.PeerID
	typ    uint8
	body   []byte
	routed bool // SendTo, not Send
}

// fakeNet records what is sent; linked peers take Send, keys are records.
type fakeNet struct {
	linked   map[identity.PeerID]bool
	keys     map[identity.PeerID]ed25519.PublicKey
	sendErr  error // Send fails
	routeErr error // SendTo fails
	out      []sent
}

func (n *fakeNet) Linked(id identity.PeerID) bool { return n.linked[id] }
func (n *fakeNet) Send(to identity.PeerID, typ uint8, p []byte) error {
	if n.sendErr != nil {
		return n.sendErr
	}
	n.out = append(n.out, sent{to, typ, bytes.Clone(p), false})
	return nil
}
func (n *fakeNet) SendTo(to identity.PeerID, typ uint8, p []byte) (bool, error) {
	if n.routeErr != nil {
		return false, n.routeErr
	}
	n.out = append(n.out, sent{to, typ, bytes.Clone(p), true})
	return n.linked[to], nil
}
func (n *fakeNet) PublicKey(id identity.PeerID) ed25519.PublicKey { return n.keys[id] }

const (
	typSealed = 40
	typA      = 41
	typB      = 42
)

var names = Counters{
	Blocked: "t_blocked", Unsealable: "t_unsealable", Mismatch: "t_mismatch", Malformed: "t_malformed",
	SealedSent: "t_sealed_sent", RouteFailed: "t_route_failed", Unreachable: "t_unreachable",
}

type rig struct {
	self    *identity.Identity
	net     *fakeNet
	stats   *counters.Set
	c       *Courier
	blocked map[identity.PeerID]bool
}

func newRig(t *testing.T, policy Policy, admit func(via, sender identity.PeerID) bool) *rig {
	t.Helper()
	r := &rig{self: testID(t, 1), stats: &counters.Set{}, blocked: map[identity.PeerID]bool{},
		net: &fakeNet{linked: map[identity.PeerID]bool{}, keys: map[identity.PeerID]ed25519.PublicKey{}}}
	var err error
	r.c, err = New(Config{
		Identity: r.self, Net: r.net, Sealed: typSealed, Inner: []uint8{typA, typB}, Policy: policy,
		Blocked: func(p identity.PeerID) bool { return r.blocked[p] }, Admit: admit,
		Stats: r.stats, Names: names,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// want checks the counters that moved, and that no other did.
func (r *rig) want(t *testing.T, counts map[string]uint64) {
	t.Helper()
	snap := r.stats.Snapshot()
	for k, v := range snap {
		if counts[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, v, counts[k], snap)
		}
	}
	for k, v := range counts {
		if snap[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, snap[k], v, snap)
		}
	}
}

func sealTo(t *testing.T, from, to *identity.Identity, plain []byte) []byte {
	t.Helper()
	env, err := seal.Seal(from, to.Public, plain)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestSendDirectWhenLinked(t *testing.T) {
	r := newRig(t, Live, nil)
	peer := testID(t, 2)
	r.net.linked[peer.ID] = true
	r.net.keys[peer.ID] = peer.Public
	if err := r.c.Send(peer.ID, typA, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if len(r.net.out) != 1 || r.net.out[0].routed || r.net.out[0].typ != typA || string(r.net.out[0].body) != "hi" {
		t.Fatalf("sent %+v, want one plain direct frame", r.net.out)
	}
	r.want(t, nil)
}

func TestSendSealsWhenNotLinked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		linked  bool
		sendErr error
	}{{"not linked", false, nil}, {"direct send fails", true, errors.New("link closed")}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Live, nil)
			peer := testID(t, 2)
			r.net.linked[peer.ID] = tc.linked
			r.net.sendErr = tc.sendErr
			r.net.keys[peer.ID] = peer.Public
			if err := r.c.Send(peer.ID, typB, []byte("body")); err != nil {
				t.Fatal(err)
			}
			if len(r.net.out) != 1 || !r.net.out[0].routed || r.net.out[0].typ != typSealed {
				t.Fatalf("sent %+v, want one routed envelope", r.net.out)
			}
			opened, err := seal.Open(peer, r.net.out[0].body)
			if err != nil || opened.SenderID != r.self.ID || !bytes.Equal(opened.Plaintext, []byte{typB, 'b', 'o', 'd', 'y'}) {
				t.Fatalf("envelope opens to %+v, %v", opened, err)
			}
			r.want(t, map[string]uint64{"t_sealed_sent": 1})
		})
	}
}

func TestSendFailures(t *testing.T) {
	r := newRig(t, Live, nil)
	peer := testID(t, 2)
	if err := r.c.Send(peer.ID, typA, nil); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no record: %v, want ErrNoKey", err)
	}
	r.net.keys[peer.ID] = peer.Public
	r.net.routeErr = errors.New("no route")
	if err := r.c.SendSealed(peer.ID, []byte("x")); err == nil {
		t.Fatal("route failure not reported")
	}
	r.want(t, map[string]uint64{"t_unreachable": 1, "t_route_failed": 1})
}

// SendSealed always seals, on a direct link too, with no inner type byte.
func TestSendSealedHasNoInnerType(t *testing.T) {
	r := newRig(t, Live, nil)
	peer := testID(t, 2)
	r.net.linked[peer.ID] = true
	r.net.keys[peer.ID] = peer.Public
	if err := r.c.SendSealed(peer.ID, []byte("call")); err != nil {
		t.Fatal(err)
	}
	opened, err := seal.Open(peer, r.net.out[0].body)
	if err != nil || string(opened.Plaintext) != "call" || r.net.out[0].typ != typSealed {
		t.Fatalf("sent %+v: %+v %v", r.net.out, opened, err)
	}
}

func TestOpenFrameAccepts(t *testing.T) {
	r := newRig(t, Live, nil)
	author := testID(t, 3)
	f, err := r.c.OpenFrame(author.ID, author.ID, sealTo(t, author, r.self, []byte{typA, 7}))
	if err != nil || f.Sender != author.ID || f.Type != typA || !bytes.Equal(f.Body, []byte{7}) {
		t.Fatalf("got %+v, %v", f, err)
	}
	r.want(t, nil)
}

func TestMismatchDroppedWhenLive(t *testing.T) {
	r := newRig(t, Live, nil)
	author, relay := testID(t, 3), testID(t, 4)
	env := sealTo(t, author, r.self, []byte{typA})
	if _, err := r.c.OpenFrame(relay.ID, relay.ID, env); !errors.Is(err, ErrMismatch) {
		t.Fatalf("carried by another link: %v, want ErrMismatch", err)
	}
	if _, err := r.c.OpenFrame(relay.ID, testID(t, 5).ID, env); !errors.Is(err, ErrMismatch) {
		t.Fatalf("routed under another source: %v, want ErrMismatch", err)
	}
	r.want(t, map[string]uint64{"t_mismatch": 2})
}

func TestMismatchAcceptedWhenRelayed(t *testing.T) {
	for _, admit := range []func(via, sender identity.PeerID) bool{nil, func(_, _ identity.PeerID) bool { return true }} {
		r := newRig(t, Relayed, admit)
		author, relay := testID(t, 3), testID(t, 4)
		f, err := r.c.OpenFrame(relay.ID, relay.ID, sealTo(t, author, r.self, []byte{typB, 1}))
		if err != nil || f.Sender != author.ID {
			t.Fatalf("got %+v, %v: a relayed frame is its sealed sender's", f, err)
		}
		// No claim (a custodian's hand-over): nothing to mismatch.
		if _, err := r.c.OpenFrame(relay.ID, identity.PeerID{}, sealTo(t, author, r.self, []byte{typB, 2})); err != nil {
			t.Fatal(err)
		}
		r.want(t, map[string]uint64{"t_mismatch": 1})
	}
}

func TestBlockedSealedSenderDropped(t *testing.T) {
	for _, p := range []Policy{Live, Relayed} {
		r := newRig(t, p, nil)
		evil, honest := testID(t, 9), testID(t, 2)
		r.blocked[evil.ID] = true
		env := sealTo(t, evil, r.self, []byte{typA})
		// Its own source, carried by an honest link, routed under an honest
		// source, handed over with no claim.
		for _, src := range []identity.PeerID{evil.ID, honest.ID, {}} {
			if _, err := r.c.OpenFrame(honest.ID, src, env); !errors.Is(err, ErrBlocked) {
				t.Fatalf("%v, src %v: %v, want ErrBlocked", p, src, err)
			}
		}
		r.want(t, map[string]uint64{"t_blocked": 3})
	}
}

func TestBlockedRoutedSourceDropped(t *testing.T) {
	for _, p := range []Policy{Live, Relayed} {
		admitted := 0
		r := newRig(t, p, func(_, _ identity.PeerID) bool { admitted++; return true })
		evil, honest := testID(t, 9), testID(t, 2)
		r.blocked[evil.ID] = true
		// An honest author's envelope, routed from (or carried by) the blocked
		// peer, and garbage: dropped before anything is parsed or budgeted.
		for _, env := range [][]byte{sealTo(t, honest, r.self, []byte{typA}), []byte("garbage")} {
			if _, err := r.c.Open(evil.ID, evil.ID, env); !errors.Is(err, ErrBlocked) {
				t.Fatalf("%v: %v, want ErrBlocked", p, err)
			}
		}
		if admitted != 0 {
			t.Errorf("%v: Admit ran %d times for a blocked source", p, admitted)
		}
		if !r.c.Refused(evil.ID) || r.c.Refused(honest.ID) {
			t.Error("Refused disagrees with Blocked")
		}
		r.want(t, map[string]uint64{"t_blocked": 3})
	}
}

func TestMalformedEnvelopeCounted(t *testing.T) {
	for _, admit := range []func(via, sender identity.PeerID) bool{nil, func(_, _ identity.PeerID) bool { return true }} {
		r := newRig(t, Relayed, admit)
		author, other := testID(t, 3), testID(t, 4)
		good := sealTo(t, author, r.self, []byte{typA, 1})
		flipped := bytes.Clone(good)
		flipped[60] ^= 1
		for _, env := range [][]byte{nil, {2}, []byte("not an envelope"), good[:len(good)-1], flipped, sealTo(t, author, other, []byte{typA})} {
			if _, err := r.c.OpenFrame(author.ID, author.ID, env); !errors.Is(err, ErrUnsealable) {
				t.Fatalf("%x…: %v, want ErrUnsealable", env[:min(len(env), 8)], err)
			}
		}
		// Opens, but carries what the service does not take.
		for _, plain := range [][]byte{{}, {typSealed, 1}, {99}} {
			if _, err := r.c.OpenFrame(author.ID, author.ID, sealTo(t, author, r.self, plain)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("plaintext %x: %v, want ErrMalformed", plain, err)
			}
		}
		r.want(t, map[string]uint64{"t_unsealable": 6, "t_malformed": 3})
	}
}

// Admit sees the verified sealed sender and the link, after the block and the
// Live mismatch checks, and before decryption; a refusal is the hook's to count.
func TestAdmitHook(t *testing.T) {
	type call struct{ via, sender identity.PeerID }
	var calls []call
	allow := false
	r := newRig(t, Relayed, func(via, sender identity.PeerID) bool {
		calls = append(calls, call{via, sender})
		return allow
	})
	author, relay, liar := testID(t, 3), testID(t, 4), testID(t, 5)
	env := sealTo(t, author, r.self, []byte{typA})
	if _, err := r.c.OpenFrame(relay.ID, liar.ID, env); !errors.Is(err, ErrRefused) {
		t.Fatalf("%v, want ErrRefused", err)
	}
	allow = true
	if f, err := r.c.OpenFrame(relay.ID, liar.ID, env); err != nil || f.Sender != author.ID {
		t.Fatalf("%+v %v", f, err)
	}
	if len(calls) != 2 || calls[0] != (call{relay.ID, author.ID}) {
		t.Fatalf("Admit saw %+v, want (relay, author) twice", calls)
	}
	// A forged signature never reaches the hook.
	bad := bytes.Clone(env)
	bad[len(bad)-1] ^= 1
	r.c.OpenFrame(relay.ID, author.ID, bad)
	if len(calls) != 2 {
		t.Fatal("Admit ran for an envelope whose signature fails")
	}
	// The mismatch is counted only once the frame opened.
	r.want(t, map[string]uint64{"t_mismatch": 1, "t_unsealable": 1})
}

func TestSplitInner(t *testing.T) {
	allowed := []uint8{typA, typB}
	for _, typ := range allowed {
		got, body, err := SplitInner([]byte{typ, 1, 2}, allowed)
		if err != nil || got != typ || !bytes.Equal(body, []byte{1, 2}) {
			t.Fatalf("type %d: %d %x %v", typ, got, body, err)
		}
	}
	for _, p := range [][]byte{nil, {}, {typSealed, 1}, {0}, {255}} {
		if typ, body, err := SplitInner(p, allowed); err == nil {
			t.Fatalf("SplitInner(%x) = %d %x", p, typ, body)
		}
	}
}

// FuzzSplitInner: any plaintext splits into an allowed type and the rest of
// the bytes, or is refused; never a panic.
func FuzzSplitInner(f *testing.F) {
	for _, s := range [][]byte{nil, {typA}, {typB, 1, 2, 3}, {typSealed}, {0xff, 0}} {
		f.Add(s)
	}
	allowed := []uint8{typA, typB}
	f.Fuzz(func(t *testing.T, p []byte) {
		typ, body, err := SplitInner(p, allowed)
		if err != nil {
			if len(p) > 0 && (p[0] == typA || p[0] == typB) {
				t.Fatalf("allowed type %d refused: %v", p[0], err)
			}
			return
		}
		if typ != p[0] || !bytes.Equal(body, p[1:]) || (typ != typA && typ != typB) {
			t.Fatalf("SplitInner(%x) = %d %x", p, typ, body)
		}
	})
}
