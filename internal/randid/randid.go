// Package randid is the random 16-byte ID that names a call (media/call) or an
// urgent item (urgent): 128 random bits, so two nodes never pick the same one
// without coordinating, written as 32 lower-case hex characters in logs, the
// headless protocol and saved state.
package randid

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// ID is 16 random bytes.
type ID [16]byte

// New returns a random ID.
func New() ID {
	var id ID
	rand.Read(id[:])
	return id
}

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Parse reads the hex form String writes; what names the ID in the error
// ("call id").
func Parse(what, s string) (ID, error) {
	var id ID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("%s %q: want %d hex characters", what, s, 2*len(id))
	}
	copy(id[:], b)
	return id, nil
}

// MarshalText and UnmarshalText keep IDs in hex in JSON.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

func (id *ID) UnmarshalText(b []byte) error {
	v, err := Parse("id", string(b))
	*id = v
	return err
}
