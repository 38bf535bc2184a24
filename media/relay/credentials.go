package relay

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Credentials let one holder allocate on this relay for one call.
type Credentials struct {
	Username string
	Password string
	// Expires is when the credential stops admitting new allocations.
	Expires time.Time
	Realm   string
	// Port is the relay's UDP port on each of its addresses.
	Port int
}

// claims are the fields a username carries (see the package doc for the format).
type claims struct {
	expiry int64 // Unix seconds
	callID string
	holder string
}

// Limits of the username fields: generous for hex call IDs and base32 peer IDs,
// and far below STUN's 513-byte USERNAME limit.
const (
	maxFieldLen  = 128
	maxExpiryLen = 19 // digits of the largest int64
)

var errUsername = errors.New("relay: malformed username")

func formatUsername(c claims) string {
	return strconv.FormatInt(c.expiry, 10) + ":" + c.callID + ":" + c.holder
}

// parseUsername accepts exactly the strings formatUsername produces for valid
// fields, so a username has one spelling and parse∘format is the identity.
func parseUsername(s string) (claims, error) {
	exp, rest, ok := strings.Cut(s, ":")
	if !ok {
		return claims{}, fmt.Errorf("%w: no fields", errUsername)
	}
	callID, holder, ok := strings.Cut(rest, ":")
	if !ok {
		return claims{}, fmt.Errorf("%w: want expiry:call:holder", errUsername)
	}
	if len(exp) == 0 || len(exp) > maxExpiryLen || (exp[0] == '0' && len(exp) > 1) {
		return claims{}, fmt.Errorf("%w: expiry %q", errUsername, exp)
	}
	for i := 0; i < len(exp); i++ {
		if exp[i] < '0' || exp[i] > '9' {
			return claims{}, fmt.Errorf("%w: expiry %q", errUsername, exp)
		}
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return claims{}, fmt.Errorf("%w: expiry: %w", errUsername, err)
	}
	if !validField(callID) || !validField(holder) {
		return claims{}, fmt.Errorf("%w: call or holder field", errUsername)
	}
	return claims{expiry: n, callID: callID, holder: holder}, nil
}

// validField reports whether s can be a call ID or holder: 1 to maxFieldLen bytes
// of [A-Za-z0-9._-]. Keeping ':' out is what makes the username unambiguous.
func validField(s string) bool {
	if len(s) == 0 || len(s) > maxFieldLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
