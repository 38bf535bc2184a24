package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// Version 1, read only (see the package documentation): what Open needs to
// decrypt envelopes sealed before version 2. Remove with version 1.

const hkdfInfoV1 = "parley seal v1"

// decryptV1 derives a version 1 envelope's key with the recipient's X25519
// private key and opens the ciphertext.
func (p *parsed) decryptV1(priv *ecdh.PrivateKey) ([]byte, error) {
	ephPub, err := ecdh.X25519().NewPublicKey(p.ephemeral)
	if err != nil {
		return nil, fmt.Errorf("%w: ephemeral key: %v", ErrDecrypt, err)
	}
	shared, err := priv.ECDH(ephPub)
	if err != nil { // low-order ephemeral key: the shared secret would be all zero
		return nil, fmt.Errorf("%w: key agreement: %v", ErrDecrypt, err)
	}
	aead, err := newAEADV1(shared, p.ephemeral, priv.PublicKey().Bytes())
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, make([]byte, nonceSize), p.ciphertext, p.header)
	if err != nil {
		return nil, ErrDecrypt
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// newAEADV1 derives the one-time AES-256-GCM key of a version 1 envelope. The
// zero nonce was safe because each envelope had a fresh ephemeral key.
func newAEADV1(shared, ephPub, recipientX []byte) (cipher.AEAD, error) {
	salt := make([]byte, 0, 2*x25519KeySize)
	salt = append(append(salt, ephPub...), recipientX...)
	key, err := hkdf.Key(sha256.New, shared, salt, hkdfInfoV1, keySize)
	if err != nil {
		return nil, fmt.Errorf("seal: hkdf: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: gcm: %w", err)
	}
	return aead, nil
}
