package overlay

import (
	"crypto/tls"
	"crypto/x509"
)

type x509Cert = x509.Certificate

func rawCertsOf(c *tls.Conn) [][]byte {
	var out [][]byte
	for _, cert := range c.ConnectionState().PeerCertificates {
		out = append(out, cert.Raw)
	}
	return out
}
