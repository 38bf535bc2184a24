package overlay

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestListenerWaitsForDialerProof: in a closed team the dialer proves first.
// A stranger that connects, completes TLS with a throwaway key and never
// proves must get nothing from the listener: before, the listener sent its
// own proof (a tag over the TLS exporter, enough to test passphrase guesses
// offline) as soon as the handshake ended.
func TestListenerWaitsForDialerProof(t *testing.T) {
	a, _ := teamKeys(t)
	member := startNodeCfg(t, 1, "member", func(c *Config) { c.Team = a }, nil)
	stranger := testIdentity(t, 66)
	cert, err := stranger.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.DialTimeout("tcp", member.addr().String(), waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	conn := tls.Client(raw, &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		NextProtos: []string{"parley/1"}, InsecureSkipVerify: true,
	})
	defer conn.Close()
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	// The listener gives up on a silent dialer after teamProofTimeout (5 s)
	// and closes; until then, and at the close, it must have sent nothing.
	conn.SetReadDeadline(time.Now().Add(teamProofTimeout + waitLimit))
	got, err := io.ReadAll(conn)
	if len(got) > 0 {
		t.Fatalf("listener sent %d bytes to a dialer that never proved (first frame type %d)", len(got), got[1])
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("listener kept the silent link open past its proof timeout")
	}
	waitUntil(t, "refusal counted", func() bool { return member.ov.Stats()["link_refused_team"] >= 1 })
}
