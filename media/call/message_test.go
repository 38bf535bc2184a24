package call

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"parley/identity"
)

func peer(b byte) identity.PeerID {
	var p identity.PeerID
	for i := range p {
		p[i] = b
	}
	return p
}

var messageCases = []Message{
	{Kind: KindInvite, Call: ID{1}, SDP: "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n"},
	{Kind: KindInvite, Call: ID{2}, SDP: "v=0", Relay: &Relay{Peer: peer(7), URLs: []string{"turn:10.77.1.12:48557?transport=udp", "turn:10.77.2.12:48557?transport=udp"}, Username: "1700000000:ab:cd", Password: "c2VjcmV0"}},
	{Kind: KindRinging, Call: ID{3}},
	{Kind: KindDTMF, Call: ID{9}, Digits: "0123456789*#ABCD"},
	{Kind: KindHold, Call: ID{13}, Hold: HoldOn},
	{Kind: KindHold, Call: ID{13}, Hold: HoldOff},
	{Kind: KindAccept, Call: ID{4}, SDP: "v=0 answer"},
	{Kind: KindDecline, Call: ID{5}, Reason: "declined"},
	{Kind: KindBusy, Call: ID{6}},
	{Kind: KindCancel, Call: ID{7}, Reason: "timeout"},
	{Kind: KindHangup, Call: ID{8}},
	{Kind: KindCandidate, Call: ID{9}, Candidate: `{"candidate":"candidate:1 1 udp 2130706431 10.77.1.11 40000 typ host","sdpMid":"0"}`},
	{Kind: KindRelayAsk, Call: ID{10}, Participants: []identity.PeerID{peer(1), peer(2)}},
	{Kind: KindInvite, Call: ID{12}, SDP: "v=0", Participants: []identity.PeerID{peer(1), peer(2), peer(3), peer(4), peer(5)}, Mixer: peer(3)},
	// A new mixer's invite after the old one was lost (mixerfailover.go).
	{Kind: KindInvite, Call: ID{12}, SDP: "v=0", Reason: ReasonMixerMoved, Participants: []identity.PeerID{peer(1), peer(2), peer(3), peer(4), peer(5)}, Mixer: peer(1)},
	{Kind: KindInvite, Call: ID{12}, Participants: []identity.PeerID{peer(1), peer(2), peer(3), peer(4), peer(5)}, Mixer: peer(4), MixerRank: []identity.PeerID{peer(4), peer(2), peer(5), peer(1), peer(3)}},
	// A leg moved off a lost relay to another (relayfailover.go).
	{Kind: KindInvite, Call: ID{13}, SDP: "v=0", Reason: ReasonRestart, Relay: &Relay{Peer: peer(8), URLs: []string{"turn:10.0.0.8:3478?transport=udp"}, Username: "u", Password: "p"}},
	{Kind: KindRelayGrant, Call: ID{11}, Relay: &Relay{Peer: peer(3), URLs: []string{"turn:10.0.0.1:48557"}, Username: "u", Password: "p"}},
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range messageCases {
		b, err := m.Encode()
		if err != nil {
			t.Fatalf("%s: %v", m.Kind, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: decode: %v", m.Kind, err)
		}
		if !reflect.DeepEqual(*got, m) {
			t.Fatalf("%s round trip:\n got %+v\nwant %+v", m.Kind, *got, m)
		}
	}
}

func TestMessageMalformed(t *testing.T) {
	good, _ := (&Message{Kind: KindHangup, Call: ID{1}}).Encode()
	withField := func(tag byte, v []byte) []byte {
		b := append([]byte{}, good...)
		b = append(b, tag, byte(len(v)>>8), byte(len(v)))
		return append(b, v...)
	}
	cases := map[string][]byte{
		"empty":             nil,
		"short header":      good[:10],
		"bad version":       append([]byte{9}, good[1:]...),
		"unknown kind":      append([]byte{1, 99}, good[2:]...),
		"field past end":    append(append([]byte{}, good...), tagSDP, 0, 10, 'x'),
		"half a tag":        append(append([]byte{}, good...), tagSDP),
		"short relay peer":  withField(tagRelayPeer, []byte{1, 2, 3}),
		"short participant": withField(tagParticipant, make([]byte, 15)),
		"long mixer":        withField(tagMixer, make([]byte, 17)),
		"short mixer rank":  withField(tagMixerRank, make([]byte, 15)),
		"dtmf letter":       withField(tagDigits, []byte("12x")),
		"dtmf too many":     withField(tagDigits, []byte(strings.Repeat("1", MaxDigits+1))),
		"oversized":         make([]byte, MaxMessage+1),
		"hold value 3":      withField(tagHold, []byte{3}),
		"hold two bytes":    withField(tagHold, []byte{1, 1}),
	}
	sevenRanked := good
	for range MaxParticipants + 1 {
		sevenRanked = append(append([]byte{}, sevenRanked...), tagMixerRank, 0, 16)
		sevenRanked = append(sevenRanked, make([]byte, 16)...)
	}
	cases["mixer rank too long"] = sevenRanked
	for name, b := range cases {
		if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	// Unknown tags are skipped: a later version may add fields.
	m, err := Decode(withField(200, []byte("future")))
	if err != nil || m.Kind != KindHangup {
		t.Fatalf("unknown tag: %+v, %v", m, err)
	}
}

func TestEncodeRefusesOversized(t *testing.T) {
	m := Message{Kind: KindInvite, SDP: string(make([]byte, 40000))}
	if _, err := m.Encode(); err == nil {
		t.Fatal("an SDP beyond MaxMessage was encoded")
	}
}

type idCase struct {
	name string
	in   string
	want ID // meaningful when ok
	ok   bool
}

// idCases are the ParseID table cases, reused as fuzz seeds.
func idCases() []idCase {
	id := ID{0xca, 0x11, 0, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x7f, 0x80}
	s := id.String()
	return []idCase{
		{"canonical", s, id, true},
		{"upper case", strings.ToUpper(s), id, true},
		{"zero", strings.Repeat("0", 32), ID{}, true},
		{"empty", "", ID{}, false},
		{"not hex", "zz", ID{}, false},
		{"byte short", s[:30], ID{}, false},
		{"one short", s[:31], ID{}, false},
		{"one long", s + "0", ID{}, false},
		{"byte long", s + "00", ID{}, false},
		{"non-hex digit", s[:31] + "g", ID{}, false},
		{"surrounding space", " " + s + " ", ID{}, false},
		{"0x prefix", "0x" + s[2:], ID{}, false},
		{"non-ASCII", "é" + s[2:], ID{}, false},
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range idCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseID(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseID(%q) = %v, %v; want ok %v", tc.in, got, err, tc.ok)
			}
			if err == nil && got != tc.want {
				t.Fatalf("ParseID(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	id := NewID()
	if got, err := ParseID(id.String()); err != nil || got != id {
		t.Fatalf("ParseID(%s) = %v, %v", id, got, err)
	}
}

// FuzzParseID: no panic, and an accepted call ID is the spelling String writes
// (letter case aside), which parses back to the same ID.
func FuzzParseID(f *testing.F) {
	for _, tc := range idCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			return
		}
		text := id.String()
		if text != strings.ToLower(s) {
			t.Fatalf("%q parsed to %v, which is spelled %q", s, id, text)
		}
		if again, err := ParseID(text); err != nil || again != id {
			t.Fatalf("re-parse of %q = %v, %v; want %v", text, again, err, id)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, m := range messageCases {
		b, _ := m.Encode()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to the same message.
		again, err := m.Encode()
		if err != nil {
			return // e.g. many fields that grew past MaxMessage with headers
		}
		m2, err := Decode(again)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-decode: %v\n%+v\n%+v", err, m, m2)
		}
	})
}
