package itest

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/netlab"
	"parley/media/audio"
	"parley/media/signal"
)

// TestFailover: calls survive losing their relay or mixer (issue 24). A
// five-party call mixed by one participant loses its mixer (kill -9), and a
// relayed call between two segments loses its relay; each call goes on with
// nobody pressing anything, and the test reports the longest stretch each
// listener did not hear each speaker (goal < 2 s).
//
// The gaps are real-time figures, so the nodes run the ordinary build (as
// TestCallCarriesAudio does): under the race detector on two shared cores an
// audio clock stall reads as a gap the failover did not cause.
func TestFailover(t *testing.T) {
	t.Run("mixer killed", mixerKilled)
	t.Run("relay killed", relayKilled)
}

// maxGap is the goal for the audio gap when a relay or mixer is lost.
const maxGap = 2 * time.Second

// toneGap is the longest stretch (a WAV recorded by --audio-out) in which hz
// is not heard, leaving out the first skip (set-up: legs connect one by one)
// and the last half second (the nodes quit). It returns the gap and where it
// starts in the recording.
func toneGap(pcm []int16, hz float64, skip time.Duration) (gap, at time.Duration) {
	from := int(skip.Seconds() * audio.SampleRate)
	to := len(pcm) - audio.SampleRate/2
	if to <= from {
		return 0, 0
	}
	start, n := signal.ToneGap(pcm[from:to], hz, audio.SampleRate, audio.FrameSamples, 0.3)
	sec := func(samples int) time.Duration {
		return time.Duration(float64(samples) / audio.SampleRate * float64(time.Second))
	}
	return sec(n), sec(from + start)
}

func waitMoved(t *testing.T, n *node, id, reason string) {
	t.Helper()
	if _, err := n.WaitEventAny(20*time.Second, func(e netlab.Event) bool {
		return e.Name() == "call_state" && e.Str("call") == id && e.Str("reason") == reason && e.Str("state") == "active"
	}); err != nil {
		t.Fatalf("%s: no %s: %v\n%s", n.name, reason, err, n.Tail())
	}
}

// quitAll asks every node to quit at once (so each recording ends with every
// tone still in it) and waits for them.
func quitAll(t *testing.T, nodes []*node) {
	t.Helper()
	for _, n := range nodes {
		n.ok(n.Client.Quit())
	}
	for _, n := range nodes {
		n.quitted()
	}
}

func mixerKilled(t *testing.T) {
	c := newPlainCluster(t)
	dir := t.TempDir()
	names := []string{"a", "b", "c", "d", "e"}
	// Prime frequencies, as in TestGroupCalls: no tone is a harmonic of another.
	tones := map[string]float64{"a": 439, "b": 557, "c": 661, "d": 773, "e": 883}
	var nodes []*node
	for _, name := range names {
		out := filepath.Join(dir, name+".wav")
		nodes = append(nodes, c.start(c.host(name), name, "--audio-in", fmt.Sprintf("tone:%.0f", tones[name]), "--audio-out", out))
	}
	for _, n := range nodes {
		n.waitPeerUp(15*time.Second, nodes...)
	}
	var peers []string
	for _, n := range nodes[1:] {
		peers = append(peers, n.id)
	}
	id := must(nodes[0].Call(peers...)).on(nodes[0])
	for _, n := range nodes[1:] {
		if _, err := n.WaitEventAny(10*time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("call") == id }); err != nil {
			t.Fatalf("%s was not rung: %v", n.name, err)
		}
		n.ok(n.Answer(id))
	}
	calls := must(nodes[0].Calls()).on(nodes[0])
	if len(calls) != 1 || calls[0].Mixer == "" {
		t.Fatalf("a's calls: %+v", calls)
	}
	var mixer *node
	var rest []*node
	for _, n := range nodes {
		if n.id == calls[0].Mixer {
			mixer = n
		} else {
			rest = append(rest, n)
		}
	}
	// Every leg of the mixer carries 3 s of audio: everyone hears everyone.
	for _, o := range rest {
		waitStats(t, mixer, 20*time.Second, "audio from "+o.name, func(e netlab.Event) bool {
			return e.Str("peer") == o.id && e.Num("frames_played") >= 150
		})
	}
	t.Logf("killing the mixer %s", mixer.name)
	killed := time.Now()
	if err := mixer.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, n := range rest {
		waitMoved(t, n, id, "mixer_moved")
		t.Logf("%s: mixer_moved %v after the kill", n.name, time.Since(killed).Round(time.Millisecond))
	}
	// Who mixes now: every remaining node names the same one, not the dead one.
	var next *node
	for _, n := range rest {
		calls := must(n.Calls()).on(n)
		if len(calls) != 1 || calls[0].Call != id {
			t.Fatalf("%s's calls after the kill: %+v", n.name, calls)
		}
		for _, o := range rest {
			if o.id == calls[0].Mixer {
				if next != nil && next != o {
					t.Fatalf("%s names mixer %s, another named %s", n.name, o.name, next.name)
				}
				next = o
			}
		}
		if next == nil {
			t.Fatalf("%s names mixer %q, not a remaining participant", n.name, calls[0].Mixer)
		}
	}
	t.Logf("new mixer: %s", next.name)
	// Three seconds of audio on every leg of the new mixer.
	for _, o := range rest {
		if o == next {
			continue
		}
		waitStats(t, next, 20*time.Second, "audio from "+o.name, func(e netlab.Event) bool {
			return e.Str("peer") == o.id && e.Num("frames_played") >= 150
		})
	}
	quitAll(t, rest)
	var worst time.Duration
	for _, n := range rest {
		got := readWAV(t, filepath.Join(dir, n.name+".wav"))
		for _, o := range rest {
			if o == n {
				continue
			}
			gap, at := toneGap(got, tones[o.name], 2*time.Second)
			t.Logf("%s: longest gap in %s's tone %v at %v of %v", n.name, o.name, gap.Round(time.Millisecond), at.Round(10*time.Millisecond),
				(time.Duration(len(got)) * time.Second / audio.SampleRate).Round(10*time.Millisecond))
			worst = max(worst, gap)
			// The tone is there after the switch: the last second, 200 ms windows.
			last := got[len(got)-audio.SampleRate:]
			if lvl := signal.MedianToneLevel(last, tones[o.name], audio.SampleRate, audio.SampleRate/5); lvl < 0.05 {
				t.Errorf("%s barely hears %s after the switch (%.3f)", n.name, o.name, lvl)
			}
		}
	}
	t.Logf("mixer killed: worst audio gap %v (goal < %v)", worst.Round(time.Millisecond), maxGap)
	if worst >= maxGap {
		t.Errorf("audio gap %v, goal < %v", worst, maxGap)
	}
}

func relayKilled(t *testing.T) {
	c := newPlainCluster(t)
	seg2, err := c.lab.AddSegment("lan2")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	aOut, zOut := filepath.Join(dir, "a.wav"), filepath.Join(dir, "z.wav")
	// a (segment 1) and z (segment 2) reach each other only through r1 or r2,
	// which sit on both.
	a := c.start(c.host("a", c.seg), "a", "--audio-in", "tone:439", "--audio-out", aOut)
	r1 := c.start(c.host("r1", c.seg, seg2), "r1", "--audio-in", "null", "--audio-out", "null")
	r2 := c.start(c.host("r2", c.seg, seg2), "r2", "--audio-in", "null", "--audio-out", "null")
	z := c.start(c.host("z", seg2), "z", "--audio-in", "tone:661", "--audio-out", zOut)
	for _, n := range []*node{a, z} {
		n.waitPeerUp(15*time.Second, a, r1, r2, z)
	}
	id := ringAndAnswer(t, a, z)
	st := waitStats(t, a, 20*time.Second, "relayed audio", func(e netlab.Event) bool {
		return e.Num("frames_played") >= 150 && e.Str("relay") != ""
	})
	relay, other := r1, r2
	if st.Str("relay") == r2.id {
		relay, other = r2, r1
	}
	t.Logf("relayed by %s; killing it", relay.name)
	killed := time.Now()
	if err := relay.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{a, z} {
		waitMoved(t, n, id, "relay_moved")
		t.Logf("%s: relay_moved %v after the kill", n.name, time.Since(killed).Round(time.Millisecond))
	}
	for _, n := range []*node{a, z} {
		st := waitStats(t, n, 20*time.Second, "audio through "+other.name, func(e netlab.Event) bool {
			return e.Str("call") == id && e.Str("relay") == other.id && e.Num("frames_played") >= 150
		})
		if !strings.Contains(st.Str("path"), "relay") {
			t.Errorf("%s's path after the move: %v", n.name, st)
		}
	}
	quitAll(t, []*node{a, z})
	var worst time.Duration
	for _, pair := range [][2]string{{aOut, "z"}, {zOut, "a"}} {
		got := readWAV(t, pair[0])
		hz := map[string]float64{"a": 439, "z": 661}[pair[1]]
		gap, at := toneGap(got, hz, 2*time.Second)
		t.Logf("%s: longest gap in %s's tone %v at %v of %v", filepath.Base(pair[0]), pair[1], gap.Round(time.Millisecond), at.Round(10*time.Millisecond),
			(time.Duration(len(got)) * time.Second / audio.SampleRate).Round(10*time.Millisecond))
		worst = max(worst, gap)
	}
	t.Logf("relay killed: worst audio gap %v (goal < %v)", worst.Round(time.Millisecond), maxGap)
	if worst >= maxGap {
		t.Errorf("audio gap %v, goal < %v", worst, maxGap)
	}
}
