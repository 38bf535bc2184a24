// Package identity owns a node's long-term Ed25519 key and the names derived from it.
//
// A peer ID is self-certifying: it is the first 16 bytes of SHA-256(public key), written
// as 26 lowercase base32 characters. Whoever presents a public key that hashes to an ID
// (and signs with it) is that peer; no registry is needed. The fingerprint is a longer,
// human-friendly digest of the same key for people to compare out of band.
package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeyFile is the name of the identity key inside the data dir.
const KeyFile = "identity.key"

// IDLen is the length of a peer ID in bytes.
const IDLen = 16

// PeerID identifies a peer: a truncated hash of its Ed25519 public key.
type PeerID [IDLen]byte

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// IDFromPublicKey derives the peer ID of pub.
func IDFromPublicKey(pub ed25519.PublicKey) PeerID {
	sum := sha256.Sum256(pub)
	var id PeerID
	copy(id[:], sum[:IDLen])
	return id
}

// String renders the ID as 26 lowercase base32 characters.
func (id PeerID) String() string { return strings.ToLower(idEncoding.EncodeToString(id[:])) }

// Short is the first 8 characters, for logs.
func (id PeerID) Short() string { return id.String()[:8] }

// IsZero reports whether id is unset.
func (id PeerID) IsZero() bool { return id == PeerID{} }

// Bytes returns the raw ID bytes.
func (id PeerID) Bytes() []byte { return id[:] }

// Compare orders IDs bytewise (-1, 0, +1), for slices.SortFunc.
func (id PeerID) Compare(o PeerID) int { return bytes.Compare(id[:], o[:]) }

// Less orders IDs bytewise; used for deterministic tie-breaks.
func (id PeerID) Less(o PeerID) bool { return string(id[:]) < string(o[:]) }

// MarshalText implements encoding.TextMarshaler so IDs appear as strings in JSON.
func (id PeerID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *PeerID) UnmarshalText(b []byte) error {
	p, err := ParsePeerID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// ParsePeerID parses the textual form (case-insensitive, surrounding space ignored).
func ParsePeerID(s string) (PeerID, error) {
	var id PeerID
	text := strings.TrimSpace(s)
	raw, err := idEncoding.DecodeString(strings.ToUpper(text))
	if err == nil && len(raw) == IDLen {
		copy(id[:], raw)
	}
	// Only the spelling String writes, letter case aside: the decoder skips embedded
	// newlines and the last character's two spare bits, and ToUpper maps some
	// non-ASCII letters (ſ, ı) to ASCII, so without this one ID would have many
	// spellings, and IDs compared or stored as text would disagree.
	if err != nil || len(raw) != IDLen || id.String() != strings.ToLower(text) {
		return PeerID{}, fmt.Errorf("invalid peer id %q: want %d base32 characters", s, idEncoding.EncodedLen(IDLen))
	}
	return id, nil
}

// Fingerprint is the safety number of pub: 30 digits in six groups of five (about 99
// bits), domain-separated from the peer ID so the two are not confused.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(append([]byte("parley fingerprint v1\x00"), pub...))
	groups := make([]string, 6)
	for i := range groups {
		v := uint32(sum[4*i])<<24 | uint32(sum[4*i+1])<<16 | uint32(sum[4*i+2])<<8 | uint32(sum[4*i+3])
		groups[i] = fmt.Sprintf("%05d", v%100000)
	}
	return strings.Join(groups, " ")
}

// Identity is this node's key pair.
type Identity struct {
	Private ed25519.PrivateKey
	Public  ed25519.PublicKey
	ID      PeerID
}

// FromSeed builds an Identity from a 32-byte Ed25519 seed.
func FromSeed(seed []byte) (*Identity, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("identity seed: want %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return &Identity{Private: priv, Public: pub, ID: IDFromPublicKey(pub)}, nil
}

// Generate makes a fresh identity.
func Generate() (*Identity, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("identity: random seed: %w", err)
	}
	return FromSeed(seed)
}

// Fingerprint is this identity's safety number.
func (id *Identity) Fingerprint() string { return Fingerprint(id.Public) }

// There is deliberately no plain Sign: every signature names its use
// (SignContext, sigcontext.go).

// LoadOrCreate reads the key from dir, creating it (mode 0600) on first start. A key file
// readable by others is tightened to 0600 with a warning rather than refused, because
// the usual cause is a copy made by the user, not an attack. On Windows, where Go
// reports every writable file as 0666 and the key is guarded by the per-user ACL of
// %APPDATA% instead, the mode is not checked (keyModeMatters), so a start does not
// warn about a mode nothing can change (seen running the unit tests under Wine).
func LoadOrCreate(dir string) (*Identity, error) {
	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		id, err := Generate()
		if err != nil {
			return nil, err
		}
		if err := writeKey(path, id.Private.Seed()); err != nil {
			return nil, err
		}
		return id, nil
	}
	if err != nil {
		return nil, fmt.Errorf("identity: read %s: %w", path, err)
	}
	if st, err := os.Stat(path); err == nil && keyModeMatters && st.Mode().Perm()&0o077 != 0 {
		slog.Warn("identity key readable by others; restricting to 0600", "path", path, "mode", st.Mode().Perm())
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("identity: chmod %s: %w", path, err)
		}
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("identity: %s is corrupt (want 64 hex characters): %w", path, err)
	}
	id, err := FromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("identity: %s: %w", path, err)
	}
	return id, nil
}

// writeKey writes the seed through a temporary file and rename, so a crash never
// leaves a half-written key behind, then syncs the directory so the rename itself
// survives a crash (TestNewKeySyncsDirectory).
//
// The key is the 32-byte Ed25519 seed as hex, unencrypted: there is no secret to
// encrypt it with that would not sit next to it (a passphrase would be asked at
// every start of a tray app). Its protection is the file mode, 0600 in a 0700
// directory, which also rules out a stale temporary file lending it a looser mode
// (TestStaleTempFileDoesNotLoosenKey). What a stolen key reveals is documented in
// package seal ("What it does not do, and what a stolen key reveals").
func writeKey(path string, seed []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("identity: create data dir: %w", err)
	}
	tmpPath := path + ".tmp"
	// O_EXCL after removing any leftover: OpenFile's mode applies only to a
	// file it creates, so a leftover 0644 file would make a 0644 key.
	if err := os.Remove(tmpPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("identity: remove stale %s: %w", tmpPath, err)
	}
	tmp, err := os.OpenFile(tmpPath, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("identity: create key: %w", err)
	}
	_, werr := tmp.WriteString(hex.EncodeToString(seed) + "\n")
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmpPath)
		return fmt.Errorf("identity: write key: %w", err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		os.Remove(tmpPath)
		return fmt.Errorf("identity: install key: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("identity: sync data dir: %w", err)
	}
	return nil
}

// syncDir makes a rename in dir durable (a variable so a test can watch it).
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Windows cannot fsync a directory handle; NTFS journals the rename.
	if err != nil && runtime.GOOS == "windows" {
		return nil
	}
	return err
}
