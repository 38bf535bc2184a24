package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// TLSCertificate returns a self-signed certificate whose key is the identity key, so a
// TLS handshake proves possession of the key behind the peer ID. Validity is wide
// because peers never check dates: the key, not a CA, is what is trusted.
func (id *Identity) TLSCertificate() (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("identity: cert serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: id.ID.String()},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, id.Public, id.Private)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("identity: create cert: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: id.Private}, nil
}

// PeerFromCertificates extracts and checks the identity key from a peer's raw TLS
// certificate chain: exactly the Ed25519 key must be there, self-signed.
func PeerFromCertificates(rawCerts [][]byte) (PeerID, ed25519.PublicKey, error) {
	if len(rawCerts) == 0 {
		return PeerID{}, nil, errors.New("peer sent no certificate")
	}
	cert, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return PeerID{}, nil, fmt.Errorf("parse peer certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return PeerID{}, nil, fmt.Errorf("peer certificate key is %T, want Ed25519", cert.PublicKey)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return PeerID{}, nil, fmt.Errorf("peer certificate not self-signed by its key: %w", err)
	}
	return IDFromPublicKey(pub), pub, nil
}
