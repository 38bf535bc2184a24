package node

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"parley/identity"
	"parley/internal/team"
)

// What a host accepts from a guest (mode, count, passphrase, name) and the
// admissions it remembers across restarts.

// guestMode is Config.Guests, with anything unknown read as off.
func (n *Node) guestMode() string {
	switch n.cfg.Guests {
	case "", "ask":
		return "ask"
	case "open":
		return "open"
	}
	return "off"
}

// ParseGuestMode checks a --guests value.
func ParseGuestMode(s string) (string, error) {
	switch s {
	case "open", "ask", "off":
		return s, nil
	case "":
		return "ask", nil
	}
	return "", fmt.Errorf("guests %q: want open, ask or off", s)
}

func (n *Node) maxGuests() int {
	if m := n.cfg.MaxGuests; m > 0 {
		return min(m, maxListedGuests)
	}
	return DefaultMaxGuests
}

// teamPassphrase compares a guest's passphrase with this node's team invitation's,
// in constant time (a timing difference would let a browser guess it byte by byte).
func (n *Node) teamPassphrase(p string) bool {
	inv, err := team.ParseInvitation(n.cfg.Team)
	if err != nil {
		return false
	}
	want := []byte(inv.Passphrase)
	got := []byte(strings.TrimSpace(p))
	// ConstantTimeCompare returns at once on a length mismatch; comparing
	// digests of equal length hides the length too.
	g, w := sha256.Sum256(got), sha256.Sum256(want)
	return len(want) > 0 && subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// guestName trims and bounds a guest's display name.
func guestName(s string) (string, error) {
	s = boundText(s, maxGuestName)
	if s == "" {
		return "", errors.New("guest: a name is required")
	}
	return s, nil
}

// boundText makes browser text safe to show: valid UTF-8, no control characters,
// trimmed, at most max bytes (cut at a character boundary).
func boundText(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	for len(s) > max {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return strings.TrimSpace(s)
}

// loadAdmittedLocked reads the remembered admissions once.
func (n *Node) loadAdmittedLocked() error {
	g := &n.guests
	if g.loaded {
		return nil
	}
	g.admitted = map[identity.PeerID]rememberedGuest{}
	raw, ok, err := n.db.Setting(settingGuests)
	if err != nil {
		return err
	}
	g.loaded = true
	if !ok || raw == "" {
		return nil
	}
	var list []rememberedGuest
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		n.log.Warn("remembered guests unreadable; they will be asked again", "err", err)
		return nil
	}
	for _, r := range list {
		if id, err := identity.ParsePeerID(r.ID); err == nil {
			g.admitted[id] = r
		}
	}
	return nil
}

// rememberLocked records an admission, forgetting the oldest beyond the bound.
func (n *Node) rememberLocked(id identity.PeerID, name string) {
	g := &n.guests
	if g.admitted == nil {
		g.admitted = map[identity.PeerID]rememberedGuest{}
	}
	g.admitted[id] = rememberedGuest{ID: id.String(), Name: name, Since: n.cfg.Now()}
	for len(g.admitted) > maxRememberedGuests {
		var oldest identity.PeerID
		var at time.Time
		for id, r := range g.admitted {
			if at.IsZero() || r.Since.Before(at) {
				oldest, at = id, r.Since
			}
		}
		delete(g.admitted, oldest)
	}
}

// saveAdmitted writes the remembered admissions to the settings.
func (n *Node) saveAdmitted() {
	g := &n.guests
	g.persist.Lock()
	defer g.persist.Unlock()
	g.mu.Lock()
	list := make([]rememberedGuest, 0, len(g.admitted))
	for _, r := range g.admitted {
		list = append(list, r)
	}
	g.mu.Unlock()
	slices.SortFunc(list, func(a, b rememberedGuest) int { return strings.Compare(a.ID, b.ID) })
	b, err := json.Marshal(list)
	if err == nil {
		err = n.db.SetSetting(settingGuests, string(b))
	}
	if err != nil {
		n.log.Warn("remember guests", "err", err)
	}
}
