package relay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/pion/turn/v2"
)

// verdict is the outcome of checking a presented credential.
type verdict uint8

const (
	verdictOK        verdict = iota
	verdictMalformed         // username does not parse
	verdictRealm             // realm is not ours
	verdictPassword          // proof of the password failed (wrong password or forged username)
	verdictRevoked           // genuine, but its call was revoked
	verdictExpired           // genuine, but past its expiry
)

// verifier checks credentials without keeping any per-credential state: the
// password is a MAC of the username under a secret only this process knows.
type verifier struct {
	secret []byte
	realm  string
}

// password is base64(HMAC-SHA256(secret, username)).
func (v verifier) password(username string) string {
	m := hmac.New(sha256.New, v.secret)
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// key is the TURN long-term credential key clients use for MESSAGE-INTEGRITY:
// MD5(username ":" realm ":" password), RFC 5389 section 15.4.
func (v verifier) key(username string) []byte {
	return turn.GenerateAuthKey(username, v.realm, v.password(username))
}

// verify checks a presented username in a fixed order: form, realm, proof of the
// password (proves gets the long-term key and says whether the request was signed
// with it), then revocation and expiry. Proof comes before revocation and expiry
// so those counters only ever count genuine credentials.
func (v verifier) verify(username, realm string, proves func(key []byte) bool,
	now time.Time, revoked func(callID string) bool) (claims, []byte, verdict) {
	c, err := parseUsername(username)
	if err != nil {
		return claims{}, nil, verdictMalformed
	}
	if realm != v.realm {
		return c, nil, verdictRealm
	}
	key := v.key(username)
	if !proves(key) {
		return c, nil, verdictPassword
	}
	if revoked(c.callID) {
		return c, key, verdictRevoked
	}
	if now.Unix() >= c.expiry {
		return c, key, verdictExpired
	}
	return c, key, verdictOK
}

func (v verdict) String() string {
	switch v {
	case verdictOK:
		return "ok"
	case verdictMalformed:
		return "malformed username"
	case verdictRealm:
		return "wrong realm"
	case verdictPassword:
		return "wrong password"
	case verdictRevoked:
		return "call revoked"
	case verdictExpired:
		return "expired"
	}
	return fmt.Sprintf("verdict(%d)", uint8(v))
}
