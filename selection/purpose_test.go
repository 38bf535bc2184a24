package selection

import (
	"strings"
	"testing"
)

type purposeCase struct {
	in   string
	want Purpose // meaningful when ok
	ok   bool
}

// purposeCases are the ParsePurpose table cases, reused as fuzz seeds.
func purposeCases() []purposeCase {
	return []purposeCase{
		{"chat", ChatForward, true},
		{"voice", VoiceRelay, true},
		{"mixer", CallMixer, true},
		{"bulk", BulkTransfer, true},
		{"CHAT", ChatForward, true},
		{"Voice", VoiceRelay, true},
		{"bul\u212a", BulkTransfer, true}, // KELVIN SIGN folds to k (strings.EqualFold is Unicode)
		{"", 0, false},
		{"carrier pigeon", 0, false},
		{" chat", 0, false},
		{"bulk\n", 0, false},
		{"purpose(4)", 0, false},
		{"0", 0, false},
		{"chatvoice", 0, false},
	}
}

func TestParsePurpose(t *testing.T) {
	for _, tc := range purposeCases() {
		got, err := ParsePurpose(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParsePurpose(%q) = %v, %v; want ok %v", tc.in, got, err, tc.ok)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("ParsePurpose(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzParsePurpose: no panic; an accepted purpose is a real one (it indexes the
// weight tables), its name matches the input case-insensitively, and the name
// parses back to the same purpose.
func FuzzParsePurpose(f *testing.F) {
	for _, tc := range purposeCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePurpose(s)
		if err != nil {
			return
		}
		if p < 0 || p >= numPurposes {
			t.Fatalf("%q parsed to purpose %d, out of range", s, int(p))
		}
		if !strings.EqualFold(p.String(), s) {
			t.Fatalf("%q parsed to %v", s, p)
		}
		if again, err := ParsePurpose(p.String()); err != nil || again != p {
			t.Fatalf("re-parse of %q = %v, %v", p.String(), again, err)
		}
	})
}
