package node

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
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

// The SIP service's own switch (issue 19, "a switch in Settings"): the address
// the registrar listens on, kept in the settings and used from the node's next
// start when no --sip flag is given (main.go). Not at once: the registrar is
// the sip skin, which main starts beside the node, and a port already in use
// is better found at start than half-way through a running session.
const (
	settingSIPListen = "sip_listen"
	// DefaultSIPAddr is the port every phone tries first (RFC 3261 §19.1.2).
	DefaultSIPAddr = ":5060"
	// maxSIPListen bounds the stored address: host:port of a literal address.
	maxSIPListen = 64
)

// validSIPListen: [host]:port with a port 1–65535 and a host that is empty
// (every address) or a literal IP address — a name would be resolved at
// every start to who knows what.
func validSIPListen(addr string) error {
	if len(addr) > maxSIPListen {
		return fmt.Errorf("sip address: at most %d characters", maxSIPListen)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("sip address %q: want host:port or :port", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("sip address %q: the port is 1 to 65535", addr)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("sip address %q: the host is an IP address or nothing (every address)", addr)
		}
	}
	return nil
}

// SetSIPListen sets the address the SIP registrar listens on from the next
// start ("" turns it off).
func (n *Node) SetSIPListen(addr string) error {
	if addr != "" {
		if err := validSIPListen(addr); err != nil {
			return err
		}
	}
	return n.db.SetSetting(settingSIPListen, addr)
}

// SIPListen is the stored registrar address ("" off, the default).
func (n *Node) SIPListen() string {
	v, ok, err := n.db.Setting(settingSIPListen)
	if err != nil || !ok || validSIPListen(v) != nil {
		return ""
	}
	return v
}

// SIPHosts are the hosts a phone registers to, for a registrar on listen
// ("user@" + one of them): this node's advertised LAN addresses (IPv4 first,
// IPv6 in brackets), with ":port" unless the port is the default 5060.
// Loopback, unspecified and link-local addresses reach no phone and are left
// out, as WebURLs does; a registrar bound to one address gives that address.
func (n *Node) SIPHosts(listen string) []string {
	var addrs []netip.Addr
	for _, ap := range n.ov.AdvertisedAddrs() {
		addrs = append(addrs, ap.Addr())
	}
	return sipHosts(addrs, listen)
}

func sipHosts(addrs []netip.Addr, listen string) []string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil || validSIPListen(listen) != nil {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() {
		addrs = []netip.Addr{a}
	}
	var out []string
	for _, u := range webURLs(addrs, 1) { // its filter and order: https://HOST:1/
		h := strings.TrimSuffix(strings.TrimPrefix(u, "https://"), ":1/")
		if port != "5060" {
			h += ":" + port
		}
		out = append(out, h)
	}
	return out
}
