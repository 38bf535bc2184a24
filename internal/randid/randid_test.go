package randid

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	a, b := New(), New()
	if a == b || a == (ID{}) {
		t.Fatalf("two new IDs: %v %v", a, b)
	}
	got, err := Parse("call id", a.String())
	if err != nil || got != a {
		t.Fatalf("Parse(String()) = %v, %v; want %v", got, err, a)
	}
	js, err := json.Marshal(map[string]ID{"id": a})
	if err != nil || !strings.Contains(string(js), `"`+a.String()+`"`) {
		t.Fatalf("JSON %s, %v", js, err)
	}
	var back map[string]ID
	if err := json.Unmarshal(js, &back); err != nil || back["id"] != a {
		t.Fatalf("JSON back %v, %v", back, err)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, s := range []string{"", "00", strings.Repeat("g", 32), strings.Repeat("0", 34)} {
		if _, err := Parse("urgent id", s); err == nil || !strings.Contains(err.Error(), "urgent id") {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}
