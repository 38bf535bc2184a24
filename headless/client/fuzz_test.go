package client

import (
	"testing"
)

// FuzzDecode: Decode reads what a child process prints. It must never panic,
// and whatever it accepts has a name.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"event":"message","id":"M1","from":"bob","text":"hi","sent":"2026-12-07T12:00:00Z"}`,
		`{"event":"peer_up","peer":{"id":"p","quality":{"links":[{"peer":"q"}]}}}`,
		`{"event":"call_stats","call":"c","rtt_ms":1e308}`,
		`{"event":"ok","req":{"k":[1]}}`,
		`{"event":"room_update","room":{"members":null}}`,
		`{"event":null}`, `not json`, `[]`, `{"event":"file_progress","bytes":-1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := Decode(line)
		if err == nil && ev == nil {
			t.Fatalf("Decode(%q) = nil, nil", line)
		}
		// Deliver on a client with nothing pending must not panic either.
		New("fuzz", nil).Deliver(line)
	})
}
