package discovery

import (
	"strings"
	"testing"
)

// txtCase is one ParseTXT table case; wantErr empty means the TXT is accepted.
type txtCase struct {
	name    string
	fields  []string
	want    ServiceInfo
	wantErr string
}

// txtCases are the ParseTXT table cases, reused as fuzz seeds.
func txtCases(t testing.TB) []txtCase {
	a := testIdentity(t, 1).ID
	b := testIdentity(t, 2).ID
	ida := "id=" + a.String()
	return []txtCase{
		{"minimal", []string{ida, "port=48556"}, ServiceInfo{ID: a, Port: 48556}, ""},
		{"full", []string{ida, "v=1", "port=1", "name=alice"}, ServiceInfo{ID: a, Port: 1, Name: "alice"}, ""},
		{"upper-case keys", []string{"ID=" + a.String(), "V=1", "Port=80", "NAME=x"}, ServiceInfo{ID: a, Port: 80, Name: "x"}, ""},
		{"upper-case id value", []string{"id=" + strings.ToUpper(a.String()), "port=80"}, ServiceInfo{ID: a, Port: 80}, ""},
		{"first id wins", []string{ida, "id=" + b.String(), "port=2"}, ServiceInfo{ID: a, Port: 2}, ""},
		{"first key wins across case", []string{"PORT=3", "port=4", ida}, ServiceInfo{ID: a, Port: 3}, ""},
		{"first bad port wins", []string{ida, "port=x", "port=5"}, ServiceInfo{}, "bad port"},
		{"unknown keys ignored", []string{"zz=1", ida, "colour=blue", "port=9", "flag"}, ServiceInfo{ID: a, Port: 9}, ""},
		{"empty key ignored", []string{"=junk", ida, "port=9"}, ServiceInfo{ID: a, Port: 9}, ""},
		{"name with equals sign", []string{ida, "port=9", "name=a=b"}, ServiceInfo{ID: a, Port: 9, Name: "a=b"}, ""},
		{"missing id", []string{"port=1", "v=1"}, ServiceInfo{}, "missing id"},
		{"nothing at all", nil, ServiceInfo{}, "missing id"},
		{"id without value", []string{"id", "port=1"}, ServiceInfo{}, "invalid peer id"},
		{"bad id", []string{"id=not-an-id", "port=1"}, ServiceInfo{}, "invalid peer id"},
		{"id too short", []string{"id=" + a.String()[:25], "port=1"}, ServiceInfo{}, "invalid peer id"},
		{"zero id", []string{"id=" + strings.Repeat("a", 26), "port=1"}, ServiceInfo{}, "zero peer id"},
		{"missing port", []string{ida}, ServiceInfo{}, "bad port"},
		{"port 0", []string{ida, "port=0"}, ServiceInfo{}, "bad port"},
		{"port too big", []string{ida, "port=65536"}, ServiceInfo{}, "bad port"},
		{"negative port", []string{ida, "port=-1"}, ServiceInfo{}, "bad port"},
		{"port with space", []string{ida, "port= 80"}, ServiceInfo{}, "bad port"},
		{"wrong version", []string{ida, "port=1", "v=2"}, ServiceInfo{}, "unsupported version"},
		{"empty version", []string{ida, "port=1", "v="}, ServiceInfo{}, "unsupported version"},
		{"version checked before id", []string{"v=2"}, ServiceInfo{}, "unsupported version"},
		{"upper-case zero id", []string{"id=" + strings.Repeat("A", 26), "port=1"}, ServiceInfo{}, "zero peer id"},
	}
}

func TestParseTXT(t *testing.T) {
	for _, tc := range txtCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTXT(tc.fields)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if got != (ServiceInfo{}) {
					t.Fatalf("rejected TXT still returned %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestTXTRoundTrip(t *testing.T) {
	id := testIdentity(t, 3).ID
	for _, info := range []ServiceInfo{
		{ID: id, Port: 48556, Name: "carol"},
		{ID: id, Port: 1},
		{ID: id, Port: 65535, Name: "with = sign and spaces"},
	} {
		txt := EncodeTXT(info)
		got, err := ParseTXT(txt)
		if err != nil {
			t.Fatalf("%v: %v", txt, err)
		}
		if got != info {
			t.Fatalf("round trip %v: got %+v, want %+v", txt, got, info)
		}
	}
	long := ServiceInfo{ID: id, Port: 2, Name: strings.Repeat("é", 40)} // 80 bytes
	got, err := ParseTXT(EncodeTXT(long))
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != long.Name[:64] {
		t.Fatalf("long name: got %d bytes, want the first 64", len(got.Name))
	}
}

// FuzzParseTXT feeds TXT strings separated by newlines. Invariants: no panic; an
// accepted record has a non-zero ID and port; and encoding what was parsed and
// parsing it again gives the same info (name cut to 64 bytes as EncodeTXT does).
func FuzzParseTXT(f *testing.F) {
	a := testIdentity(f, 1).ID
	f.Add(strings.Join(EncodeTXT(ServiceInfo{ID: a, Port: 48556, Name: "alice"}), "\n"))
	f.Add(strings.Join(EncodeTXT(ServiceInfo{ID: a, Port: 2, Name: strings.Repeat("é", 40)}), "\n"))
	for _, tc := range txtCases(f) {
		f.Add(strings.Join(tc.fields, "\n"))
	}
	f.Fuzz(func(t *testing.T, joined string) {
		info, err := ParseTXT(strings.Split(joined, "\n"))
		if err != nil {
			return
		}
		if info.ID.IsZero() {
			t.Fatalf("accepted zero ID from %q", joined)
		}
		if info.Port == 0 {
			t.Fatalf("accepted port 0 from %q", joined)
		}
		again, err := ParseTXT(EncodeTXT(info))
		if err != nil {
			t.Fatalf("re-parse of %v: %v", EncodeTXT(info), err)
		}
		want := info
		if len(want.Name) > 64 {
			want.Name = want.Name[:64]
		}
		if again != want {
			t.Fatalf("round trip: got %+v, want %+v", again, want)
		}
	})
}
