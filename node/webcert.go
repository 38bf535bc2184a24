package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/wire"
	"parley/overlay"
)

// The guest web app (package web) is served over HTTPS. Browsers refuse Ed25519
// server certificates, so the node keeps a second key for it: a self-signed ECDSA
// P-256 certificate made once and kept beside the identity. What ties it to the
// node is its SHA-256 fingerprint, published in the node's signed record
// (RecordExtWeb) and shown in the page, the Ready event and every roster entry, so
// a guest can compare the fingerprint the browser's warning shows with the one a
// peer's app shows for the host (docs/guests.md).

// RecordExtWeb is the peer-record extension carrying the web certificate's
// fingerprint. Layout of its value (the record's signature covers it):
//
//	[32] SHA-256 of the certificate's DER encoding
//
// Any other length is ignored (counted as web_ext_malformed).
const RecordExtWeb = wire.RecordExtWeb

const (
	webCertFile = "web-cert.pem"
	webKeyFile  = "web-key.pem"
	// webCertValidity: the certificate is the node's web identity, pinned by
	// fingerprint rather than by a CA, so it lives as long as a machine; a
	// renewal would change the fingerprint guests compare.
	webCertValidity = 10 * 365 * 24 * time.Hour
)

// webCert is the loaded certificate, made on first use.
type webCert struct {
	once sync.Once
	cert tls.Certificate
	err  error
	sum  atomic.Pointer[[sha256.Size]byte] // set once the certificate exists
}

// WebCertificate returns the node's HTTPS certificate, loading it from the data
// dir or making it there (web-cert.pem, web-key.pem 0600) the first time. Its
// SANs are the node's link addresses at that time and "localhost"; the
// certificate is self-signed, so browsers warn about it whatever the SANs say,
// and what a guest checks is the fingerprint. Once made, the node's record
// carries the fingerprint.
func (n *Node) WebCertificate() (tls.Certificate, error) {
	w := &n.web
	w.once.Do(func() {
		w.cert, w.err = loadOrMakeWebCert(n.cfg.DataDir, n.linkIPs)
		if w.err != nil {
			return
		}
		sum := sha256.Sum256(w.cert.Certificate[0])
		w.sum.Store(&sum)
		if err := n.republishExtensions(); err != nil {
			n.log.Warn("web certificate: cannot republish the record", "err", err)
		}
	})
	return w.cert, w.err
}

// WebFingerprint is the SHA-256 of the web certificate as Chrome's and Firefox's
// certificate viewers show it (uppercase hex pairs joined by colons); empty
// until WebCertificate made or loaded it.
func (n *Node) WebFingerprint() string {
	if n.webSum() == nil {
		return ""
	}
	return FormatWebFingerprint(n.webSum())
}

// webSum is the certificate's SHA-256, nil while there is none.
func (n *Node) webSum() []byte {
	if s := n.web.sum.Load(); s != nil {
		return s[:]
	}
	return nil
}

// linkIPs are the addresses of the link listener, the SANs of a new certificate.
func (n *Node) linkIPs() []net.IP {
	var ips []net.IP
	for _, ap := range n.ov.AdvertisedAddrs() {
		if a := ap.Addr(); a.Zone() == "" { // a zoned link-local address cannot be a SAN
			ips = append(ips, net.IP(a.Unmap().AsSlice()))
		}
	}
	return ips
}

// webExtensions is the record extension with the fingerprint, none without a
// certificate (web disabled).
func (n *Node) webExtensions() []overlay.Extension {
	if s := n.webSum(); s != nil {
		return []overlay.Extension{{Type: RecordExtWeb, Value: s}}
	}
	return nil
}

// FormatWebFingerprint writes a SHA-256 as AB:CD:…
func FormatWebFingerprint(sum []byte) string {
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// webFingerprintOf decodes a record's RecordExtWeb value: the fingerprint, or
// "" when there is none or it is malformed.
func webFingerprintOf(exts []overlay.Extension) (fp string, malformed bool) {
	for _, e := range exts {
		if e.Type != RecordExtWeb {
			continue
		}
		if len(e.Value) != sha256.Size {
			return "", true
		}
		fp = FormatWebFingerprint(e.Value)
	}
	return fp, false
}

// recordWebFingerprint is webFingerprintOf for a record, counting malformed values.
func (n *Node) recordWebFingerprint(rec *overlay.Record) string {
	fp, bad := webFingerprintOf(rec.Extensions)
	if bad {
		n.stats.Add("web_ext_malformed", 1)
	}
	return fp
}

func loadOrMakeWebCert(dir string, addrs func() []net.IP) (tls.Certificate, error) {
	certPath, keyPath := filepath.Join(dir, webCertFile), filepath.Join(dir, webKeyFile)
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil {
		return cert, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("web certificate: %w (delete %s and %s to make a new one)", err, certPath, keyPath)
	}
	certPEM, keyPEM, err := makeWebCert(addrs(), time.Now())
	if err != nil {
		return tls.Certificate{}, err
	}
	// The key first: a certificate without its key is useless, a key alone is
	// replaced next time (both are rewritten when either is missing).
	if err := writeFileSync(keyPath, keyPEM); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFileSync(certPath, certPEM); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("web certificate: %w", err)
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("web certificate: %w", err)
	}
	return nil
}

// makeWebCert makes a self-signed ECDSA P-256 certificate for the addresses.
func makeWebCert(ips []net.IP, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Parley guest page", Organization: []string{"Parley"}},
		NotBefore:             now.Add(-time.Hour), // a guest's clock a little behind still accepts it
		NotAfter:              now.Add(webCertValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{"localhost"},
		IPAddresses:           append([]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, ips...),
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}
