package identity

import (
	"strings"
	"testing"
)

type peerIDCase struct {
	name string
	in   string
	want PeerID // meaningful when ok
	ok   bool
}

// peerIDCases are the ParsePeerID table cases, reused as fuzz seeds.
func peerIDCases() []peerIDCase {
	id := PeerID{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xff}
	s := id.String()
	// The last character carries 3 bits of the ID and 2 spare bits; setting a spare
	// bit spells the same bytes differently.
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	spare := s[:25] + string(alphabet[strings.IndexByte(alphabet, s[25])|1])
	return []peerIDCase{
		{"canonical", s, id, true},
		{"upper case", strings.ToUpper(s), id, true},
		{"mixed case", strings.ToUpper(s[:13]) + s[13:], id, true},
		{"surrounding space", " \t" + s + "\n", id, true},
		{"zero id", strings.Repeat("a", 26), PeerID{}, true},
		{"all ones", PeerID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}.String(),
			PeerID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true},
		{"empty", "", PeerID{}, false},
		{"space only", "   ", PeerID{}, false},
		{"short", "abc", PeerID{}, false},
		{"one short", s[:25], PeerID{}, false},
		{"one long", s + "a", PeerID{}, false},
		{"padded", s + "======", PeerID{}, false},
		{"not base32", strings.Repeat("1", 26), PeerID{}, false},
		{"hex of the bytes", "deadbeef0102030405060708090a0bff", PeerID{}, false},
		{"space inside", s[:10] + " " + s[10:], PeerID{}, false},
		{"newline inside", s[:10] + "\n" + s[10:], PeerID{}, false},
		{"spare bits set", spare, PeerID{}, false},
		{"long s folds to S", strings.Replace(strings.Repeat("a", 26), "a", "ſ", 1), PeerID{}, false},
		{"dotless i folds to I", "ı" + strings.Repeat("a", 25), PeerID{}, false},
	}
}

func TestParsePeerID(t *testing.T) {
	for _, tc := range peerIDCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePeerID(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParsePeerID(%q) = %v, %v; want ok %v", tc.in, got, err, tc.ok)
			}
			if err != nil {
				if !got.IsZero() {
					t.Fatalf("rejected %q still returned %v", tc.in, got)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("ParsePeerID(%q) = %v, want %v", tc.in, got, tc.want)
			}
			var u PeerID
			if err := u.UnmarshalText([]byte(tc.in)); err != nil || u != got {
				t.Fatalf("UnmarshalText(%q) = %v, %v", tc.in, u, err)
			}
		})
	}
}

// FuzzParsePeerID: no panic; UnmarshalText agrees with ParsePeerID; and an accepted
// ID is the one spelling String writes (letter case and surrounding space aside),
// which parses back, and through MarshalText/UnmarshalText, to the same ID.
func FuzzParsePeerID(f *testing.F) {
	for _, tc := range peerIDCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParsePeerID(s)
		var u PeerID
		uerr := u.UnmarshalText([]byte(s))
		if (err == nil) != (uerr == nil) || (err == nil && u != id) {
			t.Fatalf("ParsePeerID(%q) = %v, %v but UnmarshalText = %v, %v", s, id, err, u, uerr)
		}
		if err != nil {
			return
		}
		text := id.String()
		if text != strings.ToLower(strings.TrimSpace(s)) {
			t.Fatalf("%q parsed to %v, which is spelled %q", s, id, text)
		}
		again, err := ParsePeerID(text)
		if err != nil || again != id {
			t.Fatalf("re-parse of %q = %v, %v; want %v", text, again, err, id)
		}
		m, err := id.MarshalText()
		if err != nil || string(m) != text {
			t.Fatalf("MarshalText = %q, %v", m, err)
		}
		var back PeerID
		if err := back.UnmarshalText(m); err != nil || back != id {
			t.Fatalf("UnmarshalText(%q) = %v, %v", m, back, err)
		}
	})
}
