package files

import (
	"strings"
	"testing"
)

type offerIDCase struct {
	name string
	in   string
	want OfferID // meaningful when ok
	ok   bool
}

// offerIDCases are the ParseOfferID table cases, reused as fuzz seeds.
func offerIDCases() []offerIDCase {
	id := OfferID{0xab, 0x01, 0x00, 0xff, 0x10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0x7f, 0x80}
	s := id.String()
	return []offerIDCase{
		{"canonical", s, id, true},
		{"upper case", strings.ToUpper(s), id, true},
		{"zero", strings.Repeat("0", 2*IDLen), OfferID{}, true},
		{"empty", "", OfferID{}, false},
		{"not hex", "zz", OfferID{}, false},
		{"one short", s[:2*IDLen-1], OfferID{}, false},
		{"one long", s + "0", OfferID{}, false},
		{"byte short", s[:2*IDLen-2], OfferID{}, false},
		{"non-hex digit", s[:2*IDLen-1] + "g", OfferID{}, false},
		{"surrounding space", " " + s[:2*IDLen-1], OfferID{}, false},
		{"space inside a byte", " f" + s[2:], OfferID{}, false},
		{"sign inside a byte", "+f" + s[2:], OfferID{}, false},
		{"minus inside a byte", "-1" + s[2:], OfferID{}, false},
		{"0x prefix", "0x" + s[2:], OfferID{}, false},
		{"non-ASCII", "é" + s[2:], OfferID{}, false},
	}
}

func TestParseOfferID(t *testing.T) {
	for _, tc := range offerIDCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOfferID(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseOfferID(%q) = %v, %v; want ok %v", tc.in, got, err, tc.ok)
			}
			if err == nil && got != tc.want {
				t.Fatalf("ParseOfferID(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzParseOfferID: no panic, and an accepted ID is the spelling String writes
// (letter case aside), which parses back to the same ID.
func FuzzParseOfferID(f *testing.F) {
	for _, tc := range offerIDCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseOfferID(s)
		if err != nil {
			return
		}
		text := id.String()
		if text != strings.ToLower(s) {
			t.Fatalf("%q parsed to %v, which is spelled %q", s, id, text)
		}
		if again, err := ParseOfferID(text); err != nil || again != id {
			t.Fatalf("re-parse of %q = %v, %v; want %v", text, again, err, id)
		}
	})
}
