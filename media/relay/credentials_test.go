package relay

import (
	"bytes"
	"crypto/hmac"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v2"
)

var testNow = time.Unix(1_700_000_000, 0)

// verifyCases drive the verifier table and seed the username fuzzer.
var verifyCases = []struct {
	name     string
	username string
	// password is what the client knows; "" means the right one for username.
	password string
	realm    string
	revoked  string
	want     verdict
}{
	{name: "valid", username: "1700000600:c0ffee:alice", want: verdictOK},
	{name: "last valid second", username: "1700000001:c0ffee:alice", want: verdictOK},
	{name: "expires now", username: "1700000000:c0ffee:alice", want: verdictExpired},
	{name: "long expired", username: "1:c0ffee:alice", want: verdictExpired},
	{name: "wrong password", username: "1700000600:c0ffee:alice", password: "hunter2", want: verdictPassword},
	{name: "password of another secret", username: "1700000600:c0ffee:alice", password: "other", want: verdictPassword},
	{name: "expiry extended", username: "1700009999:c0ffee:alice", password: "of:1700000600:c0ffee:alice", want: verdictPassword},
	{name: "holder swapped", username: "1700000600:c0ffee:mallory", password: "of:1700000600:c0ffee:alice", want: verdictPassword},
	{name: "wrong realm", username: "1700000600:c0ffee:alice", realm: "elsewhere", want: verdictRealm},
	{name: "revoked", username: "1700000600:c0ffee:alice", revoked: "c0ffee", want: verdictRevoked},
	{name: "revoked and expired", username: "1:c0ffee:alice", revoked: "c0ffee", want: verdictRevoked},
	{name: "revoked other call", username: "1700000600:c0ffee:alice", revoked: "beef", want: verdictOK},
	{name: "revoked, wrong password", username: "1700000600:c0ffee:alice", password: "x", revoked: "c0ffee", want: verdictPassword},
	{name: "field charset", username: "1700000600:A-z_0.9:B.b-_", want: verdictOK},
	{name: "max field", username: "1700000600:" + strings.Repeat("a", maxFieldLen) + ":b", want: verdictOK},
	{name: "field too long", username: "1700000600:" + strings.Repeat("a", maxFieldLen+1) + ":b", want: verdictMalformed},
	{name: "empty", username: "", want: verdictMalformed},
	{name: "expiry only", username: "1700000600", want: verdictMalformed},
	{name: "two fields", username: "1700000600:c0ffee", want: verdictMalformed},
	{name: "four fields", username: "1700000600:c0ffee:alice:x", want: verdictMalformed},
	{name: "empty call", username: "1700000600::alice", want: verdictMalformed},
	{name: "empty holder", username: "1700000600:c0ffee:", want: verdictMalformed},
	{name: "empty expiry", username: ":c0ffee:alice", want: verdictMalformed},
	{name: "leading zero", username: "01700000600:c0ffee:alice", want: verdictMalformed},
	{name: "zero", username: "0:c0ffee:alice", want: verdictExpired},
	{name: "signed", username: "+1700000600:c0ffee:alice", want: verdictMalformed},
	{name: "negative", username: "-1:c0ffee:alice", want: verdictMalformed},
	{name: "overflow", username: "9223372036854775808:c0ffee:alice", want: verdictMalformed},
	{name: "max int64", username: "9223372036854775807:c0ffee:alice", want: verdictOK},
	{name: "space", username: "1700000600:c0 ffee:alice", want: verdictMalformed},
	{name: "unicode", username: "1700000600:c0ffee:alicé", want: verdictMalformed},
	{name: "nul", username: "1700000600:c0ffee:al\x00ice", want: verdictMalformed},
}

func testVerifier() verifier {
	return verifier{secret: bytes.Repeat([]byte{7}, 32), realm: DefaultRealm}
}

func TestVerify(t *testing.T) {
	v := testVerifier()
	other := verifier{secret: bytes.Repeat([]byte{8}, 32), realm: DefaultRealm}
	for _, tc := range verifyCases {
		t.Run(tc.name, func(t *testing.T) {
			password := v.password(tc.username)
			switch {
			case tc.password == "other":
				password = other.password(tc.username)
			case strings.HasPrefix(tc.password, "of:"):
				password = v.password(strings.TrimPrefix(tc.password, "of:"))
			case tc.password != "":
				password = tc.password
			}
			realm := tc.realm
			if realm == "" {
				realm = DefaultRealm
			}
			// What the client puts in MESSAGE-INTEGRITY: its key from what it knows.
			clientKey := turn.GenerateAuthKey(tc.username, realm, password)
			proves := func(key []byte) bool { return hmac.Equal(key, clientKey) }
			revoked := func(id string) bool { return id == tc.revoked }
			c, key, got := v.verify(tc.username, realm, proves, testNow, revoked)
			if got != tc.want {
				t.Fatalf("verify(%q) = %v, want %v", tc.username, got, tc.want)
			}
			if got == verdictOK {
				if !hmac.Equal(key, clientKey) || formatUsername(c) != tc.username {
					t.Fatalf("accepted %q with key %x claims %+v", tc.username, key, c)
				}
			}
		})
	}
}

func TestIssue(t *testing.T) {
	clk := newClock()
	s, err := New(Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	cred := s.Issue("c0ffee", "alice")
	if cred.Realm != DefaultRealm || cred.Port != DefaultPort {
		t.Errorf("realm %q port %d, want %q %d", cred.Realm, cred.Port, DefaultRealm, DefaultPort)
	}
	if want := clk.Now().Add(DefaultCredentialTTL); !cred.Expires.Equal(want) {
		t.Errorf("expires %v, want %v", cred.Expires, want)
	}
	if want := "1700000600:c0ffee:alice"; cred.Username != want {
		t.Errorf("username %q, want %q", cred.Username, want)
	}
	if len(cred.Password) != 44 || cred.Password != s.ver.password(cred.Username) {
		t.Errorf("password %q is not base64(HMAC-SHA256(secret, username))", cred.Password)
	}
	if again := s.Issue("c0ffee", "bob"); again.Password == cred.Password {
		t.Error("two holders got the same password")
	}

	for _, bad := range [][2]string{{"", "alice"}, {"c0ffee", ""}, {"a:b", "alice"}, {"c0ffee", strings.Repeat("x", 129)}} {
		if got := s.Issue(bad[0], bad[1]); got != (Credentials{}) {
			t.Errorf("Issue(%q, %q) = %+v, want the zero Credentials", bad[0], bad[1], got)
		}
	}
}

// FuzzParseUsername checks the parser never panics and accepts only canonical
// usernames: whatever parses formats back to the same bytes.
func FuzzParseUsername(f *testing.F) {
	for _, tc := range verifyCases {
		f.Add(tc.username)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseUsername(s)
		if err != nil {
			return
		}
		if got := formatUsername(c); got != s {
			t.Fatalf("parse(%q) formats back as %q", s, got)
		}
		if c.expiry < 0 || !validField(c.callID) || !validField(c.holder) {
			t.Fatalf("parse(%q) accepted invalid claims %+v", s, c)
		}
	})
}
