package headless

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		line    string
		want    Command
		wantErr string
	}{
		{`{"cmd":"roster"}`, Command{Cmd: "roster"}, ""},
		{`{"cmd":"quit"}`, Command{Cmd: "quit"}, ""},
		{`{"cmd":"stats"}`, Command{Cmd: "stats"}, ""},
		{`{"cmd":"self"}`, Command{Cmd: "self"}, ""},
		{`{"cmd":"links"}`, Command{Cmd: "links"}, ""},
		{`{"cmd":"presence","status":"away","text":"lunch"}`, Command{Cmd: "presence", Status: "away", Text: "lunch"}, ""},
		{`{"cmd":"presence","status":"busy"}`, Command{Cmd: "presence", Status: "busy"}, ""},
		{`{"cmd":"name","name":"Zoë"}`, Command{Cmd: "name", Name: "Zoë"}, ""},
		{`{"cmd":"send","to":"abc","text":"hi"}`, Command{Cmd: "send", To: "abc", Text: "hi"}, ""},
		{`{"cmd":"add_peer","addr":"192.0.2.1:48556"}`, Command{Cmd: "add_peer", Addr: "192.0.2.1:48556"}, ""},
		{`  {"cmd":"self", "extra": [1,2]}  `, Command{Cmd: "self"}, ""},
		{`{"cmd":"stats","req":{"n":[1,"x"]}}`, Command{Cmd: "stats", Req: json.RawMessage(`{"n":[1,"x"]}`)}, ""},
		{`{"cmd":"roster","req":7}`, Command{Cmd: "roster", Req: json.RawMessage(`7`)}, ""},

		{`{"cmd":"presence"}`, Command{}, `presence: missing field "status"`},
		{`{"cmd":"presence","text":"only text"}`, Command{}, `missing field "status"`},
		{`{"cmd":"name"}`, Command{}, `name: missing field "name"`},
		{`{"cmd":"name","name":""}`, Command{}, `missing field "name"`},
		{`{"cmd":"send","to":"abc"}`, Command{}, `send: missing field "text"`},
		{`{"cmd":"send","text":"hi"}`, Command{}, `send: missing field "to"`},
		{`{"cmd":"add_peer"}`, Command{}, `add_peer: missing field "addr"`},
		{`{"cmd":"launch"}`, Command{}, `unknown command "launch"`},
		{`{"cmd":"ROSTER"}`, Command{}, `unknown command "ROSTER"`},
		{`{}`, Command{}, `missing field "cmd"`},
		{`null`, Command{}, `missing field "cmd"`},
		{`{"to":"abc","text":"hi"}`, Command{}, `missing field "cmd"`},
		{`not json`, Command{}, "not a JSON object"},
		{`[1,2]`, Command{}, "not a JSON object"},
		{`"roster"`, Command{}, "not a JSON object"},
		{`{"cmd":"roster"`, Command{}, "not a JSON object"},
		{`{"cmd":7}`, Command{}, "not a JSON object"},
		{``, Command{}, "not a JSON object"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			got, err := ParseCommand([]byte(tc.line))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Cmd != tc.want.Cmd || got.To != tc.want.To || got.Text != tc.want.Text || got.Status != tc.want.Status ||
				got.Addr != tc.want.Addr || got.Name != tc.want.Name || !bytes.Equal(got.Req, tc.want.Req) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	// A bad command still yields its req, so the error reply can echo it.
	c, err := ParseCommand([]byte(`{"cmd":"send","req":"r1","to":"x"}`))
	if err == nil || string(c.Req) != `"r1"` {
		t.Fatalf("req of a failed command = %s (err %v)", c.Req, err)
	}
	// Both missing fields of send are reported.
	if _, err := ParseCommand([]byte(`{"cmd":"send"}`)); err == nil || !strings.Contains(err.Error(), `"to"`) || !strings.Contains(err.Error(), `"text"`) {
		t.Fatalf("send without fields: %v", err)
	}
}

var required = map[string][]string{
	"roster": nil, "quit": nil, "stats": nil, "self": nil, "links": nil, "rooms": nil,
	"presence": {"status"}, "name": {"name"}, "send": {"to", "text"}, "add_peer": {"addr"},
	"join": {"room"}, "leave": {"room"}, "topic": {"room"}, "say": {"room", "text"}, "relays": nil,
	"history": nil, "read": nil, "search": {"text"}, "verify": {"peer"}, "block": {"peer"},
	"call": nil, "answer": {"call"}, "decline": {"call"}, "hangup": {"call"}, "mute": {"call"}, "dtmf": {"call", "digits"}, "calls": nil,
	"send_file": nil, "accept_file": {"id"}, "decline_file": {"id"}, "cancel_file": {"id"}, "transfers": nil,
	"auto_accept": nil,
}

// FuzzParseCommand checks that parsing never panics, that an accepted command is a
// known one with its required fields present, and that marshalling it and parsing
// again gives the same command.
func FuzzParseCommand(f *testing.F) {
	for _, seed := range []string{
		`{"cmd":"roster"}`, `{"cmd":"quit"}`, `{"cmd":"stats","req":{"n":1}}`, `{"cmd":"self"}`, `{"cmd":"links"}`,
		`{"cmd":"presence","status":"away","text":"lunch"}`, `{"cmd":"name","name":"Zoë"}`,
		`{"cmd":"send","to":"abc","text":"hi","req":"r"}`, `{"cmd":"add_peer","addr":"192.0.2.1:1"}`,
		`{"cmd":"presence"}`, `{"cmd":"send"}`, `{"cmd":"launch"}`, `{}`, `null`, `not json`, `[1]`,
		`{"cmd":"send","to":"\u0000","text":"\ud800"}`,
		`{"cmd":"auto_accept","on":true}`, `{"cmd":"auto_accept"}`, `{"cmd":"accept_file","id":"f1"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		c, err := ParseCommand(line)
		if err != nil {
			return
		}
		fields, known := required[c.Cmd]
		if !known {
			t.Fatalf("accepted unknown command %q", c.Cmd)
		}
		values := map[string]string{"status": c.Status, "name": c.Name, "to": c.To, "text": c.Text, "addr": c.Addr,
			"room": c.Room, "peer": c.Peer, "call": c.Call, "id": c.ID, "digits": c.Digits}
		for _, f := range fields {
			if values[f] == "" {
				t.Fatalf("%s accepted without %q", c.Cmd, f)
			}
		}
		enc, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal %+v: %v", c, err)
		}
		again, err := ParseCommand(enc)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", enc, err)
		}
		var wantReq, gotReq bytes.Buffer
		if len(c.Req) > 0 {
			if err := json.Compact(&wantReq, c.Req); err != nil {
				t.Fatalf("accepted req is not JSON: %s", c.Req)
			}
		}
		if len(again.Req) > 0 {
			json.Compact(&gotReq, again.Req)
		}
		plain := func(c Command) [6]string { return [6]string{c.Cmd, c.To, c.Text, c.Status, c.Addr, c.Name} }
		if plain(again) != plain(c) || wantReq.String() != gotReq.String() {
			t.Fatalf("round trip: got %+v req %s, want %+v req %s", again, gotReq.String(), c, wantReq.String())
		}
	})
}
