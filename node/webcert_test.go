package node

import (
	"crypto/sha256"
	"crypto/x509"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"

	"parley/overlay"
)

// TestWebCertificateKept: the certificate is made once, kept 0600 in the data
// dir, loaded unchanged by the next run, and its fingerprint is in Ready and in
// the node's own record extensions.
func TestWebCertificateKept(t *testing.T) {
	dir := t.TempDir()
	n := newTestNode(t, dir)
	if n.WebFingerprint() != "" || n.readyEvent().WebFingerprint != "" {
		t.Fatal("a fingerprint before any certificate was made")
	}
	cert, err := n.WebCertificate()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if leaf.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithm %v, browsers need ECDSA (or RSA)", leaf.PublicKeyAlgorithm)
	}
	fp := n.WebFingerprint()
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(fp) {
		t.Fatalf("fingerprint %q is not 32 colon-separated hex pairs", fp)
	}
	sum := sha256.Sum256(cert.Certificate[0])
	if fp != FormatWebFingerprint(sum[:]) || n.readyEvent().WebFingerprint != fp {
		t.Fatalf("fingerprint %q, ready %q", fp, n.readyEvent().WebFingerprint)
	}
	if got, bad := webFingerprintOf(n.extensions()); got != fp || bad {
		t.Fatalf("own record extensions carry %q (malformed %v), want %q", got, bad, fp)
	}
	for _, f := range []string{webKeyFile, webCertFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		// Windows reports 0666 for every writable file; the data folder's
		// per-user ACL guards these there.
		if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	n.Stop()

	again := newTestNode(t, dir)
	defer again.Stop()
	if _, err := again.WebCertificate(); err != nil {
		t.Fatal(err)
	}
	if again.WebFingerprint() != fp {
		t.Fatalf("the next run made a new certificate: %q, was %q", again.WebFingerprint(), fp)
	}
}

func TestWebFingerprintOfMalformed(t *testing.T) {
	for _, n := range []int{0, 31, 33} {
		fp, bad := webFingerprintOf([]overlay.Extension{{Type: RecordExtWeb, Value: make([]byte, n)}})
		if fp != "" || !bad {
			t.Errorf("a %d-byte value decoded to %q (malformed %v)", n, fp, bad)
		}
	}
	if fp, bad := webFingerprintOf([]overlay.Extension{{Type: RecordExtWeb + 1, Value: make([]byte, 5)}}); fp != "" || bad {
		t.Errorf("another extension decoded to %q (malformed %v)", fp, bad)
	}
}

func FuzzWebFingerprintOf(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, v []byte) {
		fp, bad := webFingerprintOf([]overlay.Extension{{Type: RecordExtWeb, Value: v}})
		if bad == (len(v) == sha256.Size) || (fp != "") != (len(v) == sha256.Size) {
			t.Fatalf("%d bytes: %q, malformed %v", len(v), fp, bad)
		}
	})
}
