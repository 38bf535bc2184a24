package web

import (
	"sort"
	"testing"

	"parley/headless"
)

// withheld are the headless commands a guest's page may not run, each for a
// reason (see allowed). A new headless command fails this test until it is
// put in one list or the other: deciding is the point.
var withheld = map[string]string{
	"quit":        "the session ends with the socket",
	"add_peer":    "no dialing from the host on a guest's behalf",
	"send_file":   "names paths on the host's disk; pages upload instead",
	"auto_accept": "a setting; a guest's page accepts each file",
	"stats":       "the host machine's counters",
	"links":       "the host machine's links and addresses",
	"relays":      "relay ranking is the host's business",
	"search":      "each line scans the whole history; the page has no search box yet (h-desktop: decide when it does)",

	"admit_guest":  "the host's decision",
	"guests":       "the host's guests",
	"remove_guest": "the host's decision",

	"sip_account":      "the host's SIP accounts (docs/sip.md)",
	"sip_accounts":     "the host's SIP accounts and its phones' contacts",
	"sip_unregistered": "the host's SIP setting",
	"sip_listen":       "the host's SIP registrar address",
	"dtmf":             "keypad digits toward SIP phones: not offered to pages yet",

	"ptt":        "talkgroup audio uses the host's --audio-in/--audio-out, not the browser's (node/ptt.go): not offered to pages yet",
	"ptt_replay": "plays to the host's speaker, not the browser's",
	"talkgroup":  "only worth it with ptt",
}

func TestEveryHeadlessCommandDecided(t *testing.T) {
	var undecided []string
	for cmd := range headless.Replies() {
		_, ok := withheld[cmd]
		if ok == allowed[cmd] {
			undecided = append(undecided, cmd)
		}
	}
	for cmd := range allowed {
		if _, ok := headless.Replies()[cmd]; !ok {
			undecided = append(undecided, cmd+" (allowed, but headless has no such command)")
		}
	}
	sort.Strings(undecided)
	if len(undecided) > 0 {
		t.Fatalf("put each in allowed or withheld (exactly one): %v", undecided)
	}
}
