package files

import "parley/internal/courier"

// sealedInner splits a sealed control plaintext as the files courier does.
func sealedInner(plain []byte) (uint8, []byte, error) {
	return courier.SplitInner(plain, sealedTypes)
}
