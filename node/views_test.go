package node

import (
	"encoding/json"
	"testing"
	"time"

	"parley/chat"
	"parley/files"
	"parley/identity"
	"parley/overlay"
	"parley/store"
)

// The headless protocol's JSON of every view type, built from fully populated
// core values: a renamed field, a changed unit or a tag moved back onto a core
// type fails here (headless/testdata/replies.golden pins whole replies).
func TestViewJSON(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	peer := identity.PeerID{1, 2, 3}
	msg := store.Message{ID: "m1", Conv: store.RoomConv("r1"), From: "alice", To: "bob", Room: "r1",
		Text: "hi", HLC: 42, Time: at, State: store.StateDelivered}
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"Message", messageView(msg),
			`{"id":"m1","conv":"r:r1","from":"alice","to":"bob","room":"r1","text":"hi","hlc":42,"time":"2026-12-07T12:00:00Z","state":"delivered"}`},
		{"Message/empty", messageView(store.Message{}),
			`{"id":"","conv":"","from":"","text":"","hlc":0,"time":"0001-01-01T00:00:00Z","state":""}`},
		{"Page", pageView(store.Page{Messages: []store.Message{{ID: "m2", Conv: store.DirectConv("bob"), State: store.StateQueued}}, Next: "c1"}),
			`{"messages":[{"id":"m2","conv":"d:bob","from":"","text":"","hlc":0,"time":"0001-01-01T00:00:00Z","state":"queued"}],"next":"c1"}`},
		{"Page/empty", pageView(store.Page{}), `{"messages":null}`},
		{"Room", roomView(chat.RoomInfo{ID: "r1", Name: "ops", Topic: "t", Members: []string{"a"}, Joined: true}),
			`{"id":"r1","name":"ops","topic":"t","members":["a"],"joined":true}`},
		{"RoomUpdate", RoomUpdate{Room: roomView(chat.RoomInfo{ID: "r1"})},
			`{"room":{"id":"r1","name":"","topic":"","members":null,"joined":false}}`},
		{"Link", linkView(overlay.LinkInfo{Peer: peer, Remote: "192.0.2.2:48556", Outbound: true, Since: at,
			Quality: overlay.Quality{SRTT: 1500 * time.Microsecond, RTTVar: 200 * time.Microsecond, MinRTT: time.Millisecond,
				LastRTT: time.Second, Jitter: 30*time.Microsecond + 999, Samples: 9, Sent: 10, Lost: 1, Loss: 0.1,
				Transport: true, SegsSent: 100, SegsRetrans: 3, SegsBytes: 5000, TxBytes: 7, RxBytes: 8, TxBps: 1.5, RxBps: 2.5}}),
			`{"peer":"aebagaaaaaaaaaaaaaaaaaaaaa","remote":"192.0.2.2:48556","outbound":true,"since":"2026-12-07T12:00:00Z",` +
				`"quality":{"srtt_us":1500,"rttvar_us":200,"min_rtt_us":1000,"samples":9,"pings_sent":10,"pings_lost":1,` +
				`"jitter_us":30,"loss":0.1,"tx_bps":1.5,"rx_bps":2.5,"segs_sent":100,"segs_retrans":3}}`},
		{"Link/quiet", linkView(overlay.LinkInfo{Peer: peer}),
			`{"peer":"aebagaaaaaaaaaaaaaaaaaaaaa","remote":"","outbound":false,"since":"0001-01-01T00:00:00Z",` +
				`"quality":{"srtt_us":0,"rttvar_us":0,"min_rtt_us":0,"samples":0,"pings_sent":0,"pings_lost":0,` +
				`"jitter_us":0,"loss":0,"tx_bps":0,"rx_bps":0}}`},
		{"Transfer", transferView(files.Info{ID: "f1", Out: true, Name: "a.txt", MediaType: "text/plain", Size: 3,
			Bytes: 2, State: files.StateActive, Peer: "bob", Room: "r1", Path: "/tmp/a.txt", Hash: "ab", Reason: "why", Created: at}),
			`{"id":"f1","out":true,"name":"a.txt","type":"text/plain","size":3,"bytes":2,"state":"active",` +
				`"peer":"bob","room":"r1","path":"/tmp/a.txt","hash":"ab","reason":"why","time":"2026-12-07T12:00:00Z"}`},
		{"Transfer/empty", transferView(files.Info{}),
			`{"id":"","out":false,"name":"","size":0,"bytes":0,"state":"","hash":""}`},
		{"Transfers/nil", views([]files.Info(nil), transferView), `null`},
		{"Transfers/none", views([]files.Info{}, transferView), `[]`},
	}
	for _, c := range cases {
		got, err := json.Marshal(c.v)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// The protocol's conversation names are the store's keys today; if either
// scheme changes, convOfStored must map one to the other.
func TestConvMatchesStore(t *testing.T) {
	for _, c := range []struct{ stored, peer, room string }{
		{store.DirectConv("bob"), "bob", ""}, {store.RoomConv("r1"), "", "r1"},
	} {
		if got, want := convOfStored(c.stored), ConvOf(c.peer, c.room); got != want {
			t.Errorf("stored %q shows as %q, want %q", c.stored, got, want)
		}
	}
}

// Every stored message state has a view state, and the skins' order is the
// store's (one ordering: store.Advances).
func TestStatesMatchStore(t *testing.T) {
	all := []string{StateQueued, StateSent, StateDelivered, StateRead, StateReceived}
	for _, s := range []string{store.StateQueued, store.StateSent, store.StateDelivered, store.StateRead, store.StateReceived} {
		if messageView(store.Message{State: s}).State == "" || viewState[s] == "" {
			t.Errorf("stored state %q has no view state", s)
		}
	}
	for _, from := range all {
		for _, to := range all {
			if got, want := StateAdvances(from, to), store.Advances(storedState[from], storedState[to]); got != want {
				t.Errorf("StateAdvances(%q, %q) = %v, store says %v", from, to, got, want)
			}
		}
		if StateAdvances(from, "sending") || !StateAdvances("sending", from) {
			t.Errorf("a state the store does not know (the window's sending) must rank below %q", from)
		}
	}
	if !StateAdvances(StateSent, StateQueued) || StateAdvances(StateRead, StateDelivered) {
		t.Error("queued must follow sent, and read must not fall back to delivered")
	}
}

// Every transfer state of the files service has its view state.
func TestTransferStatesMatchFiles(t *testing.T) {
	for _, s := range []string{files.StateOffered, files.StateActive, files.StateDone, files.StateDeclined,
		files.StateCancelled, files.StateFailed} {
		if got := transferView(files.Info{State: s}).State; got != transferState[s] || got == "" {
			t.Errorf("files state %q shows as %q", s, got)
		}
	}
}

// Every presence a peer can publish has its view name, and SetPresence takes
// the names back.
func TestPresenceMatchesOverlay(t *testing.T) {
	for _, p := range []overlay.Presence{overlay.Available, overlay.Away, overlay.Busy} {
		name := presenceView(p)
		if back, err := overlay.ParsePresence(name); err != nil || back != p {
			t.Errorf("presence %d shows as %q, which parses back as %d (%v)", p, name, back, err)
		}
	}
	if _, err := overlay.ParsePresence(PresenceOffline); err == nil {
		t.Error("offline must not be a presence one can publish")
	}
}
