package sip

import (
	"strings"
	"testing"
	"time"

	"parley/node"
)

// RFC 2617 §3.5's example, with its password "Circle Of Life".
func TestDigestRFC2617Example(t *testing.T) {
	h := `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ` +
		`uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`
	c, err := parseCredentials(h)
	if err != nil {
		t.Fatal(err)
	}
	ha1 := node.SIPHA1("Mufasa", "testrealm@host.com", "Circle Of Life")
	if !verify(ha1, "testrealm@host.com", "GET", c) {
		t.Fatalf("the RFC's example does not verify: %+v", c)
	}
	if verify(node.SIPHA1("Mufasa", "testrealm@host.com", "circle of life"), "testrealm@host.com", "GET", c) {
		t.Fatal("a wrong password verifies")
	}
	if verify(ha1, "other", "GET", c) || verify(ha1, "testrealm@host.com", "POST", c) {
		t.Fatal("another realm or method verifies")
	}
}

func TestParseCredentialsRefuses(t *testing.T) {
	for _, h := range []string{
		`Basic dXNlcjpwYXNz`,
		`Digest username="a`,
		`Digest username="a", username="b"`,
		`Digest username`,
		`Digest username="a" realm="b"`,
		`Digest ` + strings.Repeat("x", 1100) + `=1`,
	} {
		if c, err := parseCredentials(h); err == nil {
			t.Errorf("%.40q: accepted as %+v", h, c)
		}
	}
}

func TestNonces(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	n := &nonces{now: func() time.Time { return now }}
	n.secret[0] = 1
	x := n.make("10.0.0.2")
	if ok, _ := n.check(x, "10.0.0.2"); !ok {
		t.Fatal("own nonce refused")
	}
	if ok, _ := n.check(x, "10.0.0.3"); ok {
		t.Fatal("nonce good from another address")
	}
	if ok, _ := n.check(x[:len(x)-2]+"00", "10.0.0.2"); ok {
		t.Fatal("a forged nonce is good")
	}
	now = now.Add(nonceLife + time.Second)
	if ok, stale := n.check(x, "10.0.0.2"); ok || !stale {
		t.Fatalf("old nonce: ok %v stale %v", ok, stale)
	}
}

func FuzzParseCredentials(f *testing.F) {
	f.Add(`Digest username="radio1", realm="parley-abcd", nonce="00", uri="sip:10.0.0.1", response="00", algorithm=MD5, qop=auth, nc=00000001, cnonce="x"`)
	f.Add(`digest a=b,c="d"`)
	f.Fuzz(func(t *testing.T, h string) {
		c, err := parseCredentials(h)
		if err != nil {
			return
		}
		if len(c.Username)+len(c.Response)+len(c.Nonce) > len(h) {
			t.Fatalf("parsed more than given: %+v", c)
		}
		verify("00", "r", "REGISTER", c) // must not panic
	})
}
