package overlay

import "testing"

type presenceCase struct {
	in   string
	want Presence // meaningful when ok
	ok   bool
}

// presenceCases are the ParsePresence table cases, reused as fuzz seeds.
func presenceCases() []presenceCase {
	return []presenceCase{
		{"available", Available, true},
		{"away", Away, true},
		{"busy", Busy, true},
		{"", 0, false},
		{"Away", 0, false}, // exact names only, as String writes them
		{"BUSY", 0, false},
		{" away", 0, false},
		{"away\n", 0, false},
		{"offline", 0, false},
		{"0", 0, false},
		{"presence(3)", 0, false},
		{"availablé", 0, false},
	}
}

func TestParsePresence(t *testing.T) {
	for _, tc := range presenceCases() {
		got, err := ParsePresence(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParsePresence(%q) = %v, %v; want ok %v", tc.in, got, err, tc.ok)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("ParsePresence(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzParsePresence: no panic; an accepted presence is one a record may carry and
// is spelled exactly as String writes it, which parses back to the same value.
func FuzzParsePresence(f *testing.F) {
	for _, tc := range presenceCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePresence(s)
		if err != nil {
			return
		}
		if p > Busy {
			t.Fatalf("%q parsed to presence %d, which records reject", s, p)
		}
		if p.String() != s {
			t.Fatalf("%q parsed to %v, which is spelled %q", s, p, p.String())
		}
		if again, err := ParsePresence(p.String()); err != nil || again != p {
			t.Fatalf("re-parse of %q = %v, %v", p.String(), again, err)
		}
	})
}
