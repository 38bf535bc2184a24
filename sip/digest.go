package sip

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Digest authentication (RFC 2617, RFC 7616 with MD5 — what phones speak;
// RFC 3261 §22). The node stores HA1 = MD5(user:realm:password) only
// (node.SetSIPAccount). Nonces are stateless: the issue time and an HMAC of
// it and the client's address under a per-process secret, so a nonce is
// good for nonceLife from the address it was given to, and nothing is kept
// per challenge.

// nonceLife is how long a nonce is accepted; phones re-register well
// within it (they answer the challenge at once), and an older one gets
// 401 stale=true, which phones retry without asking the user.
const nonceLife = 5 * time.Minute

// maxAuthHeader bounds an Authorization header: a phone's is about 300 bytes.
const maxAuthHeader = 1024

var (
	errNotDigest   = errors.New("digest: not a Digest header")
	errAuthTooLong = errors.New("digest: header longer than 1 KiB")
	errAuthSyntax  = errors.New("digest: malformed parameters")
)

// credentials are the parameters of an Authorization (or
// Proxy-Authorization) header.
type credentials struct {
	Username, Realm, Nonce, URI, Response, Algorithm, CNonce, QOP, NC, Opaque string
}

// parseCredentials reads `Digest k=v, k="v", …`. Unknown parameters are
// ignored; a repeated one, an unterminated quote or a missing '=' is an error.
func parseCredentials(h string) (credentials, error) {
	var c credentials
	if len(h) > maxAuthHeader {
		return c, errAuthTooLong
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Digest") {
		return c, errNotDigest
	}
	seen := map[string]bool{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			return c, errAuthSyntax
		}
		key = strings.ToLower(strings.TrimSpace(key))
		after = strings.TrimLeft(after, " \t")
		var val string
		if strings.HasPrefix(after, `"`) {
			end := strings.IndexByte(after[1:], '"')
			if end < 0 {
				return c, errAuthSyntax
			}
			val, rest = after[1:1+end], after[2+end:]
		} else {
			val, rest, _ = strings.Cut(after, ",")
			val = strings.TrimSpace(val)
			rest = "," + rest
		}
		rest = strings.TrimLeft(rest, " \t")
		if rest != "" {
			if rest[0] != ',' {
				return c, errAuthSyntax
			}
			rest = strings.TrimLeft(rest[1:], " \t")
		}
		if key == "" || seen[key] {
			return c, errAuthSyntax
		}
		seen[key] = true
		switch key {
		case "username":
			c.Username = val
		case "realm":
			c.Realm = val
		case "nonce":
			c.Nonce = val
		case "uri":
			c.URI = val
		case "response":
			c.Response = val
		case "algorithm":
			c.Algorithm = val
		case "cnonce":
			c.CNonce = val
		case "qop":
			c.QOP = val
		case "nc":
			c.NC = val
		case "opaque":
			c.Opaque = val
		}
	}
	return c, nil
}

// nonces makes and checks stateless nonces.
type nonces struct {
	secret [32]byte
	now    func() time.Time
}

// make is a nonce for a client at addr: hex(time ‖ HMAC(time ‖ addr)[:16]).
func (n *nonces) make(addr string) string {
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], uint64(n.now().Unix()))
	return hex.EncodeToString(t[:]) + hex.EncodeToString(n.mac(t[:], addr))
}

func (n *nonces) mac(t []byte, addr string) []byte {
	m := hmac.New(sha256.New, n.secret[:])
	m.Write(t)
	m.Write([]byte(addr))
	return m.Sum(nil)[:16]
}

// check says whether nonce is one of ours for addr (ok) and whether it is
// too old (stale: the phone may retry with a fresh one).
func (n *nonces) check(nonce, addr string) (ok, stale bool) {
	raw, err := hex.DecodeString(nonce)
	if err != nil || len(raw) != 24 {
		return false, false
	}
	if !hmac.Equal(raw[8:], n.mac(raw[:8], addr)) {
		return false, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)
	age := n.now().Sub(issued)
	if age < -time.Minute || age > nonceLife {
		return false, true
	}
	return true, false
}

// challenge is a WWW-Authenticate (or Proxy-Authenticate) value.
func challenge(realm, nonce string, stale bool) string {
	s := fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=MD5, qop="auth"`, realm, nonce)
	if stale {
		s += ", stale=true"
	}
	return s
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// digestResponse is the response a client knowing ha1 computes (RFC 2617
// §3.2.2.1): with qop=auth, MD5(HA1:nonce:nc:cnonce:qop:HA2), else the
// RFC 2069 form MD5(HA1:nonce:HA2); HA2 = MD5(method:uri).
func digestResponse(ha1, method string, c credentials) string {
	ha2 := md5hex(method + ":" + c.URI)
	if c.QOP != "" {
		return md5hex(ha1 + ":" + c.Nonce + ":" + c.NC + ":" + c.CNonce + ":" + c.QOP + ":" + ha2)
	}
	return md5hex(ha1 + ":" + c.Nonce + ":" + ha2)
}

// verify checks c against ha1 for method: the realm is ours, the algorithm
// MD5, qop absent or auth (with an 8-hex-digit nc), and the response right,
// compared in constant time.
func verify(ha1, realm, method string, c credentials) bool {
	if c.Realm != realm || (c.Algorithm != "" && !strings.EqualFold(c.Algorithm, "MD5")) {
		return false
	}
	if c.QOP != "" {
		if c.QOP != "auth" || len(c.NC) != 8 || c.CNonce == "" {
			return false
		}
		if _, err := strconv.ParseUint(c.NC, 16, 32); err != nil {
			return false
		}
	}
	want := digestResponse(ha1, method, c)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(c.Response)), []byte(want)) == 1
}
