package hostile

import (
	"crypto/ed25519"
	"time"

	"parley/identity"
	"parley/internal/seal"
	"parley/urgent"
)

// SealedUrgent is an urgent frame body (urgent.TypeUrgent): a new urgent
// message with text from `from` to the peer whose key is to, sealed. An honest
// node refuses to raise a seventh item a minute; this one is made regardless,
// to see the receiver's cap hold.
func SealedUrgent(from *identity.Identity, to ed25519.PublicKey, text string) ([]byte, error) {
	body := urgent.EncodeBody(urgent.Body{Kind: urgent.KindMessage, ID: urgent.NewID(), At: time.Now(), Text: text})
	return seal.Seal(from, to, body)
}
