package chat

import "parley/internal/courier"

// sealedInner splits a sealed plaintext as chat's courier does (TestSealedInner).
func sealedInner(plain []byte) (uint8, []byte, error) {
	return courier.SplitInner(plain, sealedTypes)
}
