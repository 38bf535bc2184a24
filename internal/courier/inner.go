package courier

import (
	"errors"
	"fmt"
	"slices"
)

// SplitInner splits a sealed plaintext [type][body] into its inner frame
// type and body. Only the listed types are taken: an unknown type, an
// envelope type (nothing nests envelopes) or an empty plaintext is an error.
// The body aliases plain.
func SplitInner(plain []byte, allowed []uint8) (uint8, []byte, error) {
	if len(plain) < 1 {
		return 0, nil, errors.New("sealed frame: empty")
	}
	if !slices.Contains(allowed, plain[0]) {
		return 0, nil, fmt.Errorf("sealed frame: inner type %d", plain[0])
	}
	return plain[0], plain[1:], nil
}
