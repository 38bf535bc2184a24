package team

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Two teams that happen to choose the same passphrase must not share a key:
// before, the salt was the constant "parley team v1", so one precomputed
// Argon2id dictionary tested every Parley team's beacon and TXT tags at once,
// and equal passphrases gave equal tags on every network.
func TestSamePassphraseDifferentTeams(t *testing.T) {
	const p = "engine 7 night shift"
	inv1, err := NewInvitation(p)
	if err != nil {
		t.Fatal(err)
	}
	inv2, err := NewInvitation(p)
	if err != nil {
		t.Fatal(err)
	}
	if inv1.Salt == inv2.Salt {
		t.Fatal("two invitations drew the same salt")
	}
	k1, k2 := mustDerive(t, inv1), mustDerive(t, inv2)
	part := []byte("public key and seq")
	if bytes.Equal(k1.Tag("beacon", part), k2.Tag("beacon", part)) || k1.Hint() == k2.Hint() {
		t.Fatal("teams with the same passphrase and different salts share tags")
	}
	// Members of one team, each holding the invitation, agree.
	back, err := ParseInvitation(inv1.String())
	if err != nil {
		t.Fatal(err)
	}
	if back != inv1 || !mustDerive(t, back).Check(k1.Tag("beacon", part), "beacon", part) {
		t.Fatalf("invitation did not round-trip: %q", inv1.String())
	}
}

func mustDerive(t *testing.T, inv Invitation) *Key {
	t.Helper()
	k, err := Derive(inv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseInvitation(t *testing.T) {
	inv, err := NewInvitation("four unrelated words: ferry, cobalt")
	if err != nil {
		t.Fatal(err)
	}
	s := inv.String()
	if !strings.HasPrefix(s, invitationPrefix) || strings.ContainsAny(s, "\r\n") {
		t.Fatalf("invitation %q", s)
	}
	for _, in := range []string{s, "  " + s + "\r\n", s + "\n"} {
		if got, err := ParseInvitation(in); err != nil || got != inv {
			t.Fatalf("ParseInvitation(%q) = %v, %v", in, got, err)
		}
	}
	bad := map[string]error{
		"":                     ErrEmpty,
		"engine 7 night shift": ErrBarePassphrase,
		invitationPrefix:       ErrInvitation,
		invitationPrefix + "AAAA:long enough passphrase here":                       ErrInvitation, // short salt
		invitationPrefix + strings.Repeat("A", 22) + ":":                            ErrEmpty,
		invitationPrefix + strings.Repeat("A", 22) + ":short":                       ErrWeak,
		invitationPrefix + strings.Repeat("!", 22) + ":long enough passphrase here": ErrInvitation,
	}
	for in, want := range bad {
		if _, err := ParseInvitation(in); !errors.Is(err, want) {
			t.Errorf("ParseInvitation(%q) = %v, want %v", in, err, want)
		}
	}
}

func TestGeneratedInvitation(t *testing.T) {
	inv, err := GenerateInvitation()
	if err != nil {
		t.Fatal(err)
	}
	if bits := Strength(inv.Passphrase); bits < 100 {
		t.Fatalf("generated passphrase %q rates %.0f bits", inv.Passphrase, bits)
	}
	if _, err := ParseInvitation(inv.String()); err != nil {
		t.Fatal(err)
	}
}

// The strength rule refuses the clearly weak and lets ordinary passphrases of
// a few words through.
func TestStrengthFloor(t *testing.T) {
	weak := []string{
		"fire crew 7", "password1234", "Password123!", "aaaaaaaaaaaaaaaa", "abcabcabcabcabc",
		"123456789012", "qwertyuiopas", "parleyparley1", "correcthorse",
	}
	for _, p := range weak {
		if err := CheckPassphrase(p); !errors.Is(err, ErrWeak) {
			t.Errorf("%q (%.0f bits) accepted", p, Strength(p))
		}
	}
	strong := []string{
		"engine 7 night shift", "correct horse battery staple", "four unrelated words: ferry, cobalt",
		"Ölfeld süd, Schicht drei", "j8#kQ2!vP9zR",
	}
	for _, p := range strong {
		if err := CheckPassphrase(p); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
	err := CheckPassphrase("fire crew 7")
	if err == nil || !strings.Contains(err.Error(), "--new-team") {
		t.Fatalf("the refusal does not say what to do: %v", err)
	}
}

// FuzzParseInvitation: the invitation decoder never panics, and whatever it
// accepts prints back to the same invitation and passes the strength floor.
func FuzzParseInvitation(f *testing.F) {
	f.Add("parley-team-1:s3h_QqrVPmBCT3lq9g04Yw:yqvu-umsz-upzq-lt3a-oi5q")
	f.Add("parley-team-1:AAAAAAAAAAAAAAAAAAAAAA:engine 7 night shift\r\n")
	f.Add("parley-team-1::")
	f.Add("engine 7 night shift")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := ParseInvitation(s)
		if err != nil {
			return
		}
		if CheckPassphrase(inv.Passphrase) != nil || strings.ContainsAny(inv.String(), "\r\n") {
			t.Fatalf("accepted a weak or multi-line passphrase %q", inv.Passphrase)
		}
		back, err := ParseInvitation(inv.String())
		if err != nil || back != inv {
			t.Fatalf("%q -> %q does not round-trip: %v", s, inv.String(), err)
		}
	})
}
