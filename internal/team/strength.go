package team

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The strength floor: a passphrase needs at least MinRunes characters and an
// estimate of at least MinBits by Strength. 60 bits at Argon2id's ~0.2 s per
// guess is about 7 million core-years for a search of half the space; the
// rule is deliberately simple and errs on the side of overrating, so the floor
// only refuses the clearly weak (TestStrengthFloor lists both sides).
const (
	MinRunes = 12
	MinBits  = 60
)

// ErrWeak refuses a passphrase below the strength floor.
var ErrWeak = errors.New("team passphrase is too weak")

// commonParts are fragments that add nothing to a guesser's work: removed
// (case-insensitively) before counting.
var commonParts = []string{
	"password", "passwort", "parley", "qwerty", "qwertz", "azerty", "letmein", "welcome",
	"iloveyou", "secret", "admin", "monkey", "dragon", "123456", "1234", "abcdef",
}

// Strength estimates a passphrase's bits by a documented rule:
//
//  1. Remove every occurrence of a common fragment (commonParts), case-insensitively.
//  2. The pool is the sum of the classes present in the whole passphrase:
//     lowercase 26, uppercase 26, digits 10, other ASCII (space, punctuation) 33,
//     anything else (non-ASCII letters, symbols) 100.
//  3. The length that counts is what remains after step 1, capped at three times
//     the number of distinct characters in it (so "abcabcabc…" and "aaaa…" rate
//     as short).
//  4. bits = counted length × log2(pool).
func Strength(p string) float64 {
	rest := strings.ToLower(p)
	for _, c := range commonParts {
		rest = strings.ReplaceAll(rest, c, "")
	}
	var lower, upper, digit, ascii, other bool
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		case r < utf8.RuneSelf && unicode.IsPrint(r):
			ascii = true
		default:
			other = true
		}
	}
	pool := 0
	for _, c := range []struct {
		present bool
		size    int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {ascii, 33}, {other, 100}} {
		if c.present {
			pool += c.size
		}
	}
	if pool < 2 {
		return 0
	}
	distinct := map[rune]bool{}
	for _, r := range rest {
		distinct[r] = true
	}
	n := min(utf8.RuneCountInString(rest), 3*len(distinct))
	return float64(n) * math.Log2(float64(pool))
}

// CheckPassphrase refuses an empty passphrase (ErrEmpty) and one below the
// strength floor (ErrWeak, with a message that says what would pass).
func CheckPassphrase(p string) error {
	if p == "" {
		return ErrEmpty
	}
	bits, n := Strength(p), utf8.RuneCountInString(p)
	if n >= MinRunes && bits >= MinBits {
		return nil
	}
	why := fmt.Sprintf("%d characters, at least %d needed", n, MinRunes)
	if n >= MinRunes {
		why = fmt.Sprintf("about %.0f bits by the rule in package team, %d needed", bits, MinBits)
	}
	return fmt.Errorf("%w (%s): use several unrelated words with a digit or a symbol, "+
		"or let `parley --new-team FILE` generate one", ErrWeak, why)
}
