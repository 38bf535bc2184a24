package relay

import (
	"fmt"
	"testing"
)

// One credential admits the allocations of one call leg — its two parties, one
// allocation each per relay address — and no more: a peer holding a genuine
// credential cannot take every session of the relay by allocating from many
// client ports. Before the cap, all 8 allocations with one credential were
// admitted (MaxSessions, 8, was the only bound).
func TestCredentialAllocationCap(t *testing.T) {
	leakCheck(t)
	s := startServer(t, Config{}) // one listener: 2 allocations per credential
	cred := s.Issue("call", "mallory.bob")
	got := 0
	for range DefaultMaxSessions {
		p, err := dial(t, s, cred)
		if err != nil {
			continue
		}
		defer p.close()
		got++
	}
	if got != 2 {
		t.Fatalf("%d allocations with one credential, want 2 (stats %v)", got, s.Stats())
	}
	if stat(s, "refused_credential_cap") != DefaultMaxSessions-2 {
		t.Fatalf("refused_credential_cap = %d, want %d", stat(s, "refused_credential_cap"), DefaultMaxSessions-2)
	}
	// Another leg's credential still gets its allocations.
	mustDial(t, s, s.Issue("call", "alice.bob"))
}

// RevokeHolder ends one leg's allocations and refuses its credential; the
// call's other legs carry on.
func TestRevokeHolder(t *testing.T) {
	leakCheck(t)
	s := startServer(t, Config{})
	leg1 := s.Issue("call", "alice.bob")
	mustDial(t, s, leg1)
	other := mustDial(t, s, s.Issue("call", "alice.carol"))
	s.RevokeHolder("call", "alice.bob")
	if l := s.Load(); l.Sessions != 1 {
		t.Fatalf("after RevokeHolder: %+v, want 1 session", l)
	}
	before := stat(s, "refused_revoked")
	if _, err := dial(t, s, leg1); err == nil {
		t.Fatal("a revoked leg's credential allocated again")
	}
	if stat(s, "refused_revoked") <= before {
		t.Fatal("refusal of a revoked leg not counted")
	}
	permit(t, other, other)
	if _, err := other.relay.WriteTo([]byte("on"), other.relay.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if got, _ := receive(t, other); string(got) != "on" {
		t.Fatalf("other leg got %q", got)
	}
}

// One host, however many keys (credentials) it holds, gets at most
// MaxSessionsPerHost allocations — by default half the relay — so a flood of
// throwaway keys from one address leaves the other half to everyone else.
// Before the cap, 8 keys from one address took all 8 sessions.
func TestSessionsPerHostCap(t *testing.T) {
	leakCheck(t)
	if c, _ := (Config{}).withDefaults(); c.MaxSessionsPerHost != DefaultMaxSessions/2 {
		t.Fatalf("default per-host cap %d, want %d", c.MaxSessionsPerHost, DefaultMaxSessions/2)
	}
	s := startServer(t, Config{MaxSessionsPerHost: DefaultMaxSessions / 2})
	got := 0
	for i := range DefaultMaxSessions {
		p, err := dial(t, s, s.Issue("call", fmt.Sprintf("sybil%d.victim", i)))
		if err != nil {
			continue
		}
		defer p.close()
		got++
	}
	if got != DefaultMaxSessions/2 || stat(s, "refused_host_cap") != DefaultMaxSessions/2 {
		t.Fatalf("%d allocations from one host, refused_host_cap %d: want %d and %d",
			got, stat(s, "refused_host_cap"), DefaultMaxSessions/2, DefaultMaxSessions/2)
	}
}
