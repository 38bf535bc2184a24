package identity

import (
	"bytes"
	"crypto/ed25519"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreatePersistsWithMode0600(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if keyModeMatters && st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v, want 0600", st.Mode().Perm())
	}
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || !bytes.Equal(a.Public, b.Public) {
		t.Fatal("second load produced a different identity")
	}
}

// A second start reads the key it made without a word: under Wine the Windows
// build warned "readable by others" at every start, about a mode Windows does
// not have (keymode.go).
func TestReloadIsQuiet(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	defer slog.SetDefault(old)
	if _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	if logged.Len() != 0 {
		t.Fatalf("loading its own key logged: %s", logged.String())
	}
}

func TestLoadTightensLooseMode(t *testing.T) {
	if !keyModeMatters {
		t.Skip("no Unix modes on Windows: the key is guarded by the per-user ACL of %APPDATA%")
	}
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyFile)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode after load %v, want 0600", st.Mode().Perm())
	}
}

func TestCorruptKeyIsAClearError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("zz"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOrCreate(dir)
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("err = %v, want a corrupt-key error", err)
	}
}

func TestPeerIDRoundTripAndSelfCertifying(t *testing.T) {
	id, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	s := id.ID.String()
	if len(s) != 26 || strings.ToLower(s) != s {
		t.Fatalf("id text %q: want 26 lowercase chars", s)
	}
	back, err := ParsePeerID(strings.ToUpper(s))
	if err != nil || back != id.ID {
		t.Fatalf("parse(%q) = %v, %v", s, back, err)
	}
	if IDFromPublicKey(id.Public) != id.ID {
		t.Fatal("id not derived from public key")
	}
	other, _ := Generate()
	if IDFromPublicKey(other.Public) == id.ID {
		t.Fatal("two keys gave the same id")
	}
	for _, bad := range []string{"", "abc", s + "a", strings.Repeat("1", 26)} {
		if _, err := ParsePeerID(bad); err == nil {
			t.Errorf("ParsePeerID(%q) accepted", bad)
		}
	}
}

func TestFingerprintShape(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	id, _ := FromSeed(seed)
	fp := id.Fingerprint()
	groups := strings.Split(fp, " ")
	if len(groups) != 6 {
		t.Fatalf("fingerprint %q: want 6 groups", fp)
	}
	for _, g := range groups {
		if len(g) != 5 || strings.Trim(g, "0123456789") != "" {
			t.Fatalf("group %q not 5 digits", g)
		}
	}
	id2, _ := FromSeed(seed)
	if id2.Fingerprint() != fp {
		t.Fatal("fingerprint not deterministic")
	}
}

func TestCertificateCarriesIdentityKey(t *testing.T) {
	id, _ := Generate()
	cert, err := id.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	got, pub, err := PeerFromCertificates(cert.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	if got != id.ID || !bytes.Equal(pub, id.Public) {
		t.Fatal("certificate does not carry the identity key")
	}
	if _, _, err := PeerFromCertificates(nil); err == nil {
		t.Fatal("empty chain accepted")
	}
	if _, _, err := PeerFromCertificates([][]byte{[]byte("junk")}); err == nil {
		t.Fatal("junk certificate accepted")
	}
}
