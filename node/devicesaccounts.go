package node

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SIP accounts (issue 19): who may register a phone with this node. Only
// what digest authentication needs is stored: HA1 = MD5(user ":" realm ":"
// password) (RFC 2617 §3.2.2.2, RFC 7616 with MD5, what phones speak). The
// password itself is never stored nor logged. HA1 is password-equivalent for
// this realm only, which is why the realm is fixed per node (SIPRealm): an
// HA1 taken from one node's store does not open another node's registrar.

// settingSIPAccounts is the settings key of the accounts (JSON).
const settingSIPAccounts = "sip_accounts"

const (
	// maxSIPAccounts bounds the accounts a node keeps; each registered one is
	// a hosted node, and those are bounded by MaxGuests anyway.
	maxSIPAccounts = 256
	// maxSIPUser bounds an account name; phones show it, URIs carry it.
	maxSIPUser = 32
	// minSIPPassword: digest with MD5 is only as good as the password.
	minSIPPassword = 8
	maxSIPPassword = 128
)

// ErrSIPAccount is returned for an unknown account.
var ErrSIPAccount = errors.New("sip: no such account")

// sipAccount is one stored account, JSON under its field names in the
// settings (untagged: not part of the protocol).
type sipAccount struct {
	User  string
	HA1   string // hex MD5(user:realm:password)
	Since time.Time
}

// SIPAccountView is an account and its registration now.
type SIPAccountView struct {
	User       string     `json:"user"`
	ID         string     `json:"id"` // the device's peer ID (stable, DeviceIdentity)
	Registered bool       `json:"registered"`
	Contact    string     `json:"contact,omitempty"`
	Expires    *time.Time `json:"expires,omitempty"`
}

// SIPRealm is this node's digest realm: "parley-" and the first 8 characters
// of its peer ID. It is fixed for the life of the node's key, so stored HA1s
// stay valid across restarts, and differs between nodes.
func (n *Node) SIPRealm() string { return "parley-" + n.id.ID.Short() }

// validSIPUser: 1 to 32 of [a-z0-9._-], starting with a letter or digit —
// what every phone lets one type, and nothing SIP would need to escape.
func validSIPUser(u string) bool {
	if u == "" || len(u) > maxSIPUser {
		return false
	}
	for i, r := range u {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("._-", r)
		if !ok {
			return false
		}
	}
	return true
}

// SIPHA1 is the digest HA1 of user, realm and password, in lower-case hex.
func SIPHA1(user, realm, password string) string {
	sum := md5.Sum([]byte(user + ":" + realm + ":" + password))
	return hex.EncodeToString(sum[:])
}

// SetSIPAccount makes or changes an account (an empty password deletes it and
// unregisters its device).
func (n *Node) SetSIPAccount(user, password string) error {
	if !validSIPUser(user) {
		return fmt.Errorf("sip account %q: want 1 to %d of a-z 0-9 . _ -", user, maxSIPUser)
	}
	if password != "" && (len(password) < minSIPPassword || len(password) > maxSIPPassword) {
		return fmt.Errorf("sip account: a password has %d to %d bytes", minSIPPassword, maxSIPPassword)
	}
	n.devices.mu.Lock()
	accts, err := n.sipAccountsLocked()
	if err != nil {
		n.devices.mu.Unlock()
		return err
	}
	i := slices.IndexFunc(accts, func(a sipAccount) bool { return a.User == user })
	switch {
	case password == "" && i < 0:
		n.devices.mu.Unlock()
		return ErrSIPAccount
	case password == "":
		accts = slices.Delete(accts, i, i+1)
	case i >= 0:
		accts[i].HA1 = SIPHA1(user, n.SIPRealm(), password)
	case len(accts) >= maxSIPAccounts:
		n.devices.mu.Unlock()
		return fmt.Errorf("sip account: at most %d", maxSIPAccounts)
	default:
		accts = append(accts, sipAccount{User: user, HA1: SIPHA1(user, n.SIPRealm(), password), Since: n.cfg.Now()})
	}
	err = n.saveSIPAccountsLocked(accts)
	n.devices.mu.Unlock()
	if err == nil && password == "" {
		n.dropDevice(user)
	}
	return err
}

// SIPAccountHA1 is what the registrar checks a digest response against.
func (n *Node) SIPAccountHA1(user string) (string, bool) {
	n.devices.mu.Lock()
	defer n.devices.mu.Unlock()
	accts, err := n.sipAccountsLocked()
	if err != nil {
		return "", false
	}
	for _, a := range accts {
		if a.User == user {
			return a.HA1, true
		}
	}
	return "", false
}

// SIPAccounts lists the accounts with their registrations, by name.
func (n *Node) SIPAccounts() ([]SIPAccountView, error) {
	n.devices.mu.Lock()
	defer n.devices.mu.Unlock()
	accts, err := n.sipAccountsLocked()
	if err != nil {
		return nil, err
	}
	out := make([]SIPAccountView, 0, len(accts))
	for _, a := range accts {
		v := SIPAccountView{User: a.User}
		if id, err := n.deviceIdentity(a.User); err == nil {
			v.ID = id.ID.String()
		}
		if d := n.devices.hosted[a.User]; d != nil {
			d.mu.Lock()
			v.Registered, v.Contact = true, d.contact
			if !d.expires.IsZero() {
				e := d.expires
				v.Expires = &e
			}
			d.mu.Unlock()
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b SIPAccountView) int { return strings.Compare(a.User, b.User) })
	return out, nil
}

func (n *Node) sipAccountsLocked() ([]sipAccount, error) {
	raw, ok, err := n.db.Setting(settingSIPAccounts)
	if err != nil || !ok || raw == "" {
		return nil, err
	}
	var accts []sipAccount
	if err := json.Unmarshal([]byte(raw), &accts); err != nil {
		return nil, fmt.Errorf("sip accounts unreadable: %w", err)
	}
	return accts, nil
}

func (n *Node) saveSIPAccountsLocked(accts []sipAccount) error {
	b, err := json.Marshal(accts)
	if err != nil {
		return err
	}
	return n.db.SetSetting(settingSIPAccounts, string(b))
}
