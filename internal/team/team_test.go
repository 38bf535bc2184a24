package team

import (
	"bytes"
	"testing"
)

func TestTags(t *testing.T) {
	inv, err := NewInvitation("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	a := mustDerive(t, inv)
	a2 := mustDerive(t, inv)
	b := mustDerive(t, Invitation{Salt: inv.Salt, Passphrase: "correct horse battery stapler"})
	part := []byte("pubkey and seq")
	tag := a.Tag("record", part)
	if len(tag) != TagLen || !a2.Check(tag, "record", part) {
		t.Fatal("the same invitation does not give the same key")
	}
	if b.Check(tag, "record", part) {
		t.Fatal("another passphrase accepted the tag")
	}
	if a.Check(tag, "beacon", part) {
		t.Fatal("a record tag passed as a beacon tag")
	}
	if a.Check(tag, "record", []byte("pubkey and seq!")) {
		t.Fatal("a tag passed for other content")
	}
	if a.Check(tag[:15], "record", part) || a.Check(nil, "record", part) {
		t.Fatal("a short tag passed")
	}
	if a.Hint() != a2.Hint() || a.Hint() == b.Hint() || bytes.Contains([]byte(a.Hint()), []byte("horse")) {
		t.Fatalf("hints %q %q %q", a.Hint(), a2.Hint(), b.Hint())
	}
	if _, err := Derive(Invitation{}); err != ErrEmpty {
		t.Fatalf("empty passphrase: %v", err)
	}
}
