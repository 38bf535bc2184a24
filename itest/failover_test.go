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

// gapFigures are what one listener's recording (--audio-out) says of one
// speaker's tone around a failure.
type gapFigures struct {
	// failover is the longest silence that begins from half a second before
	// the failure to a second and a half after it (0 if the tone never stops
	// there).
	failover time.Duration
	// before is the longest silence from the first second of the recording
	// to the failure: the machine's own stalls, not the failover's.
	before time.Duration
	// later is the longest silence that begins after that, to half a second
	// before the recording ends (the nodes quit).
	later time.Duration
	// at is where the failure is in the recording, reckoned back from its end.
	at time.Duration
}

// measureGap reads gapFigures for tone hz from pcm; sinceKill is how long the
// node kept recording after the failure.
//
// Why three figures: on this machine (two cores shared with other builds,
// load 10-28) both ends and the relay of a call are sometimes starved for
// 2-3 s at a time, before a kill as after it (call_stats: frames_played
// standing still while skipped climbs), and a search for the longest
// silence in the whole recording found those instead of the failover's gap.
func measureGap(pcm []int16, hz float64, sinceKill time.Duration) gapFigures {
	const win = audio.FrameSamples // 20 ms
	sil := signal.ToneSilence(pcm, hz, audio.SampleRate, win, 0.3)
	dur := func(windows int) time.Duration { return time.Duration(windows) * audio.FrameDuration }
	killW := len(sil) - int(sinceKill/audio.FrameDuration)
	endW := len(sil) - int(500*time.Millisecond/audio.FrameDuration)
	var g gapFigures
	g.at = dur(killW)
	clamp := func(i int) int { return max(0, min(i, len(sil))) }
	from, to := clamp(int(time.Second/audio.FrameDuration)), clamp(killW-25)
	if from < to {
		_, n := signal.LongestRun(sil[from:to])
		g.before = dur(n)
	}
	// Runs of silence: the longest that starts within [-0.5 s, +1.5 s] of the
	// failure is the failover's (a frame or two of concealment right after
	// the kill can split it from a short dip before), any later one a stall.
	for i := clamp(killW - 25); i < clamp(endW); {
		if !sil[i] {
			i++
			continue
		}
		j := i
		for j < len(sil) && sil[j] {
			j++
		}
		if i < killW+75 {
			g.failover = max(g.failover, dur(j-i))
		} else {
			g.later = max(g.later, dur(min(j, clamp(endW))-i))
		}
		i = j
	}
	return g
}

// judgeGaps logs each pair's figures and fails the run if a failover gap
// reaches maxGap — unless the machine itself silenced that pair for over a
// second before the failure, when the goal cannot be judged on this run
// (said in the log, the figures still reported).
func judgeGaps(t *testing.T, what string, figs map[string]gapFigures) {
	t.Helper()
	var worst, stalled time.Duration
	for pair, g := range figs {
		t.Logf("%s: failover gap %v (failure at %v; longest silence before it %v, after it %v)",
			pair, g.failover.Round(time.Millisecond), g.at.Round(10*time.Millisecond), g.before.Round(time.Millisecond), g.later.Round(time.Millisecond))
		worst, stalled = max(worst, g.failover), max(stalled, g.before)
	}
	t.Logf("%s: worst audio gap %v (goal < %v)", what, worst.Round(time.Millisecond), maxGap)
	switch {
	case worst < maxGap:
	case stalled > time.Second:
		t.Logf("%s: NOT JUDGED: the machine silenced a call for %v before the failure", what, stalled.Round(time.Millisecond))
	default:
		t.Errorf("%s: audio gap %v, goal < %v", what, worst.Round(time.Millisecond), maxGap)
	}
}

// hearsAfter checks the tone is there after the failover: the median of 200 ms
// windows over the 2 s before the last half second (the nodes quit).
func hearsAfter(t *testing.T, who, whom string, pcm []int16, hz float64) {
	t.Helper()
	end := len(pcm) - audio.SampleRate/2
	from := max(0, end-2*audio.SampleRate)
	if lvl := signal.MedianToneLevel(pcm[from:end], hz, audio.SampleRate, audio.SampleRate/5); lvl < 0.05 {
		t.Errorf("%s barely hears %s after the failover (%.3f of full scale)", who, whom, lvl)
	}
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
	sinceKill := time.Since(killed)
	figs := map[string]gapFigures{}
	for _, n := range rest {
		got := readWAV(t, filepath.Join(dir, n.name+".wav"))
		for _, o := range rest {
			if o == n {
				continue
			}
			figs[n.name+" hears "+o.name] = measureGap(got, tones[o.name], sinceKill)
			hearsAfter(t, n.name, o.name, got, tones[o.name])
		}
	}
	judgeGaps(t, "mixer killed", figs)
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
	// Both relays linked to both ends: the call's signalling is routed, and
	// a route through a bridge whose link to z was still being dialled lost
	// the invite (route_drop_unreachable at r1) in one run of five.
	for _, r := range []*node{r1, r2} {
		eventually(t, 15*time.Second, r.name+" linked to a and z", func() bool {
			l := r.links()
			return l[a.id] != nil && l[z.id] != nil
		})
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
	sinceKill := time.Since(killed)
	figs := map[string]gapFigures{}
	for _, p := range []struct {
		who, whom, wav string
		hz             float64
	}{{"a", "z", aOut, 661}, {"z", "a", zOut, 439}} {
		got := readWAV(t, p.wav)
		figs[p.who+" hears "+p.whom] = measureGap(got, p.hz, sinceKill)
		hearsAfter(t, p.who, p.whom, got, p.hz)
	}
	judgeGaps(t, "relay killed", figs)
}
