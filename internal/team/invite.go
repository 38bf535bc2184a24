package team

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// SaltLen is the length of a team's salt.
const SaltLen = 16

// invitationPrefix starts every invitation (format version 1).
const invitationPrefix = "parley-team-1:"

// Invitation is what joins a node to a team: the team's salt and passphrase
// (see the package documentation for its text form).
type Invitation struct {
	Salt       [SaltLen]byte
	Passphrase string
}

var (
	// ErrInvitation: the text is not a well-formed invitation.
	ErrInvitation = errors.New("team invitation is malformed")
	// ErrBarePassphrase: the text is a passphrase without a salt, as team
	// files held before invitations existed.
	ErrBarePassphrase = errors.New("team file holds a bare passphrase, not an invitation " +
		"(teams now share one line \"" + invitationPrefix + "SALT:PASSPHRASE\" so that no two teams share a salt): " +
		"one member runs `parley --new-team FILE` (with $PARLEY_TEAM set to keep the old passphrase) " +
		"and gives FILE to the others, who start with --team-file FILE")
)

// NewInvitation makes an invitation for a new team with passphrase (surrounding
// space dropped) and a fresh random salt. The passphrase must pass
// CheckPassphrase.
func NewInvitation(passphrase string) (Invitation, error) {
	inv := Invitation{Passphrase: strings.TrimSpace(passphrase)}
	if strings.ContainsAny(inv.Passphrase, "\r\n") {
		return Invitation{}, fmt.Errorf("%w: the passphrase spans lines", ErrInvitation)
	}
	if err := CheckPassphrase(inv.Passphrase); err != nil {
		return Invitation{}, err
	}
	if _, err := rand.Read(inv.Salt[:]); err != nil {
		return Invitation{}, fmt.Errorf("team: random salt: %w", err)
	}
	return inv, nil
}

// GenerateInvitation makes an invitation with a generated passphrase: 20
// random base32 characters in groups of four (100 bits).
func GenerateInvitation() (Invitation, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Invitation{}, fmt.Errorf("team: random passphrase: %w", err)
	}
	s := strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))[:20]
	groups := []string{s[0:4], s[4:8], s[8:12], s[12:16], s[16:20]}
	return NewInvitation(strings.Join(groups, "-"))
}

// String is the invitation's one-line text form.
func (inv Invitation) String() string {
	return invitationPrefix + base64.RawURLEncoding.EncodeToString(inv.Salt[:]) + ":" + inv.Passphrase
}

// ParseInvitation reads an invitation's text form (surrounding space, such as
// a file's line ending, ignored). It refuses a bare passphrase with
// ErrBarePassphrase, whose text says how to make an invitation, and a
// passphrase below the strength floor with ErrWeak.
func ParseInvitation(s string) (Invitation, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Invitation{}, ErrEmpty
	}
	rest, ok := strings.CutPrefix(s, invitationPrefix)
	if !ok {
		return Invitation{}, ErrBarePassphrase
	}
	saltText, pass, ok := strings.Cut(rest, ":")
	if !ok {
		return Invitation{}, fmt.Errorf("%w: no passphrase after the salt", ErrInvitation)
	}
	salt, err := base64.RawURLEncoding.DecodeString(saltText)
	if err != nil || len(salt) != SaltLen {
		return Invitation{}, fmt.Errorf("%w: the salt is not %d bytes of base64url", ErrInvitation, SaltLen)
	}
	if strings.ContainsAny(pass, "\r\n") {
		return Invitation{}, fmt.Errorf("%w: the passphrase spans lines", ErrInvitation)
	}
	inv := Invitation{Passphrase: pass}
	copy(inv.Salt[:], salt)
	if err := CheckPassphrase(pass); err != nil {
		return Invitation{}, err
	}
	return inv, nil
}
