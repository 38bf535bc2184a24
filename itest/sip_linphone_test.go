package itest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/netlab"
	"parley/media/audio"
)

// linphone is one linphonec (Debian's linphone-cli) in a namespace, driven on
// its stdin as a person types at its prompt. In "files" sound mode it sends
// a WAV file as its microphone ("play") and records what it hears
// ("record"); no sound card is touched.
type linphone struct {
	dir string
	cmd *exec.Cmd
	in  io.WriteCloser
	out *syncBuffer
}

// startLinphone runs linphonec on h with a config of its own (SIP on 5060,
// UDP only, IPv4, no echo canceller) and a 10 s tone at hz as its microphone.
func startLinphone(t *testing.T, h *netlab.Host, hz float64) *linphone {
	t.Helper()
	if _, err := exec.LookPath("linphonec"); err != nil {
		t.Skip("linphonec is not installed (make deps-test: linphone-cli)")
	}
	dir := t.TempDir()
	rc := strings.Join([]string{
		// Without register_only_when_network_is_up=0 it never sends a
		// REGISTER in a namespace (it waits for a network it never sees up).
		"[sip]", "use_ipv6=0", "register_only_when_network_is_up=0", "register_only_when_upnp_is_ok=0",
		"[rtp]", "audio_rtp_port=7078",
		"[sound]", "echocancellation=0",
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "rc"), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	writeToneWAV(t, filepath.Join(dir, "mic.wav"), hz, 10*time.Second)
	l := &linphone{dir: dir, out: &syncBuffer{}}
	l.cmd = h.Command(context.Background(), "linphonec", "-S", "-d", "5", "-l", filepath.Join(dir, "log"), "-c", filepath.Join(dir, "rc"))
	l.cmd.Env = append(os.Environ(), "HOME="+dir) // its database and logs stay in dir
	l.cmd.Dir = dir
	l.cmd.Stdout, l.cmd.Stderr = l.out, l.out
	in, err := l.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	l.in = in
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.kill()
		if t.Failed() {
			out := l.out.String()
			t.Logf("--- linphonec (last 6 KB) ---\n%s", out[max(0, len(out)-6000):])
			if log, err := os.ReadFile(filepath.Join(dir, "log")); err == nil {
				var sip []string // its SIP traffic and errors only
				for _, line := range strings.Split(string(log), "\n") {
					if strings.Contains(line, "SIP/2.0") || strings.Contains(line, "error") || strings.Contains(line, "Call") && strings.Contains(line, "state") {
						sip = append(sip, line)
					}
				}
				t.Logf("--- linphonec's log, SIP lines (last 60) ---\n%s", strings.Join(sip[max(0, len(sip)-60):], "\n"))
			}
		}
	})
	// Its config's sip_port is not taken (ports shows 0, nothing listens):
	// the command is.
	l.do(t, "ports sip 5060")
	l.do(t, "soundcard use files")
	l.do(t, "play mic.wav") // relative to dir: long paths wrap at its prompt
	l.do(t, "record heard.wav")
	return l
}

// do types one command at linphonec's prompt.
func (l *linphone) do(t *testing.T, line string) {
	t.Helper()
	if _, err := fmt.Fprintln(l.in, line); err != nil {
		t.Fatal(err)
	}
}

func (l *linphone) kill() {
	if l.cmd.Process != nil && l.cmd.ProcessState == nil {
		l.in.Close()
		l.cmd.Process.Kill()
		l.cmd.Wait()
	}
}

// waitOutput waits for linphonec's output to contain s.
func (l *linphone) waitOutput(t *testing.T, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(l.out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("linphonec never printed %q", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// heard is what linphonec recorded ("record"), at 48 kHz: its WAV's rate is
// read from the header and each sample repeated (the tone judge looks at one
// frequency; repetition keeps it).
func (l *linphone) heard(t *testing.T) []int16 {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(l.dir, "heard.wav"))
	if err != nil {
		t.Fatalf("linphonec recorded nothing: %v", err)
	}
	if len(raw) < 44 || string(raw[:4]) != "RIFF" {
		t.Fatalf("heard.wav: not a WAV (%d bytes)", len(raw))
	}
	rate := int(binary.LittleEndian.Uint32(raw[24:]))
	channels := int(binary.LittleEndian.Uint16(raw[22:]))
	i := bytes.Index(raw, []byte("data"))
	if i < 0 || rate <= 0 || audio.SampleRate%rate != 0 || channels < 1 {
		t.Fatalf("heard.wav: rate %d, %d channels", rate, channels)
	}
	t.Logf("linphonec recorded %d Hz, %d channel(s)", rate, channels)
	raw = raw[i+8:]
	var out []int16
	for k := 0; k+2*channels <= len(raw); k += 2 * channels {
		v := int16(binary.LittleEndian.Uint16(raw[k:]))
		for range audio.SampleRate / rate {
			out = append(out, v)
		}
	}
	return out
}

// writeToneWAV writes a 16-bit mono 8 kHz WAV of a sine at hz (half scale).
func writeToneWAV(t *testing.T, path string, hz float64, d time.Duration) {
	t.Helper()
	const rate = 8000
	n := int(d.Seconds() * rate)
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], rate)
	binary.LittleEndian.PutUint32(b[28:], 2*rate)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i := range n {
		v := int16(16000 * math.Sin(2*math.Pi*hz*float64(i)/rate))
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(v))
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
