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

// testSignal writes a WAV of a slow tone sweep (250 Hz up to 1.5 kHz,
// signal.Sweep): Opus codes it nearly transparently, and it aligns in one place
// only, as signal.JudgeWindows needs.
func testSignal(t *testing.T, path string, seconds float64) []int16 {
	t.Helper()
	n := int(seconds * audio.SampleRate)
	pcm := signal.Sweep(n, audio.SampleRate, 250, 1500, 9000)
	w, err := audio.CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+audio.FrameSamples <= n; i += audio.FrameSamples {
		if err := w.WriteFrame(pcm[i : i+audio.FrameSamples]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return pcm
}

func readWAV(t *testing.T, path string) []int16 {
	t.Helper()
	pcm, err := audio.ReadWAVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

func callEvent(state, reason string) func(e netlab.Event) bool {
	return func(e netlab.Event) bool {
		return e.Name() == "call_state" && e.Str("state") == state && (reason == "" || e.Str("reason") == reason)
	}
}

// ringAndAnswer has from call to, to answer, and waits until both are active.
func ringAndAnswer(t *testing.T, from, to *node) string {
	t.Helper()
	id := must(from.Call(to.id)).on(from)
	in, err := to.WaitEventAny(10*time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("call") == id })
	if err != nil {
		t.Fatalf("%s was not rung: %v\n%s", to.name, err, to.Tail())
	}
	if in.Str("from") != from.id {
		t.Fatalf("call_incoming from %q, want %s", in.Str("from"), from.id)
	}
	to.ok(to.Answer(id))
	for _, n := range []*node{from, to} {
		active := callEvent("active", "")
		if _, err := n.WaitEventAny(15*time.Second, func(e netlab.Event) bool { return active(e) && e.Str("call") == id }); err != nil {
			t.Fatalf("%s: call never active: %v\n%s", n.name, err, n.Tail())
		}
	}
	return id
}

// waitStats waits for a call_stats event of n that satisfies cond.
func waitStats(t *testing.T, n *node, timeout time.Duration, what string, cond func(netlab.Event) bool) netlab.Event {
	t.Helper()
	e, err := n.WaitEventAny(timeout, func(e netlab.Event) bool { return e.Name() == "call_stats" && cond(e) })
	if err != nil {
		t.Fatalf("%s: no call_stats with %s: %v\n%s", n.name, what, err, n.Tail())
	}
	return e
}

// TestCallCarriesAudio: a headless call between two namespaces plays a WAV on
// one side and records the other; the recording matches the source.
//
// Its assertion is a real-time figure (every second of the recording ≥ 20 dB SNR),
// so it runs the ordinary build: under the race detector on two cores a stall of
// the audio clock costs a concealed frame now and then, and one concealed frame
// in a second reads as a bad second (a CI-like run: 4.5 dB in one second, the
// others 22–28 dB). The other call tests, which judge states and paths, keep the
// race build.
func TestCallCarriesAudio(t *testing.T) {
	c := newPlainCluster(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.wav")
	ref := testSignal(t, in, 6)
	a := c.start(c.host("a"), "a", "--audio-in", in, "--audio-out", "null")
	b := c.start(c.host("b"), "b", "--audio-in", "null", "--audio-out", out)
	a.waitPeerUp(15*time.Second, b)
	b.waitPeerUp(15*time.Second, a)

	id := ringAndAnswer(t, a, b)
	st := waitStats(t, b, 15*time.Second, "5 s of audio played", func(e netlab.Event) bool { return e.Num("frames_played") >= 250 })
	t.Logf("b: %v", st)
	if st.Str("codec") != "opus/48000" || st.Str("relay") != "" || strings.Contains(st.Str("path"), "relay") {
		t.Fatalf("stats: %v", st)
	}
	a.ok(a.Hangup(id))
	if _, err := b.WaitEventAny(10*time.Second, callEvent("ended", "remote_hangup")); err != nil {
		t.Fatalf("b: %v", err)
	}

	got := readWAV(t, out)
	lag, corr := signal.Align(ref, got, len(got))
	t.Logf("recording of %d samples aligned at lag %d (%.0f ms), correlation %.3f, whole-signal SNR %.1f dB",
		len(got), lag, float64(lag)/48, corr, signal.SNR(ref, got, lag))
	last := st // the newest figures of the call, for its splice counts
	for _, e := range b.Events() {
		if e.Name() == "call_stats" && e.Str("call") == id {
			last = e
		}
	}
	splices := int(last.Num("stretched") + last.Num("skipped"))
	judge := signal.JudgeOptions{Window: audio.SampleRate / 5, Frame: audio.FrameSamples, MinSNR: 20, MinWindows: 25, Logf: t.Logf}
	if err := signal.JudgeWindows(ref, got, lag, splices, judge); err != nil {
		t.Fatal(err)
	}
}

// TestRelayedCallAcrossSegments: a (segment 1) calls c (segment 2); only b sits
// on both. The call must run through b's TURN relay, and call_stats name it.
func TestRelayedCallAcrossSegments(t *testing.T) {
	c := newCluster(t)
	seg2, err := c.lab.AddSegment("lan2")
	if err != nil {
		t.Fatal(err)
	}
	a := c.start(c.host("a", c.seg), "a", "--audio-in", "tone:440", "--audio-out", "null")
	b := c.start(c.host("b", c.seg, seg2), "b", "--audio-in", "null", "--audio-out", "null")
	cc := c.start(c.host("c", seg2), "c", "--audio-in", "tone:660", "--audio-out", "null")
	a.waitPeerUp(15*time.Second, b, cc)
	cc.waitPeerUp(15*time.Second, a, b)

	ringAndAnswer(t, a, cc)
	for _, n := range []*node{a, cc} {
		st := waitStats(t, n, 15*time.Second, "audio through the relay", func(e netlab.Event) bool {
			return e.Num("frames_played") >= 100 && e.Str("relay") != ""
		})
		t.Logf("%s: %v", n.name, st)
		if st.Str("relay") != b.id || st.Str("relay_name") != "b" {
			t.Fatalf("%s's call is relayed by %q (%s), want b %s", n.name, st.Str("relay"), st.Str("relay_name"), b.id)
		}
	}
	if ctr := b.counters(); ctr["turn_allocations"] < 2 {
		t.Fatalf("b's relay counters: %v", ctr)
	}
}

// TestCallControl: decline, busy, ring timeout and a callee killed mid-call.
func TestCallControl(t *testing.T) {
	c := newCluster(t)
	flags := []string{"--audio-in", "tone:440", "--audio-out", "null", "--ring-timeout", "2s"}
	a := c.start(c.host("a"), "a", flags...)
	b := c.start(c.host("b"), "b", flags...)
	cc := c.start(c.host("c"), "c", flags...)
	for _, n := range []*node{a, b, cc} {
		n.waitPeerUp(15*time.Second, a, b, cc)
	}

	t.Run("decline", func(t *testing.T) {
		id := must(a.Call(b.id)).on(a)
		if _, err := b.WaitEventAny(10*time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("call") == id }); err != nil {
			t.Fatal(err)
		}
		b.ok(b.Decline(id))
		if _, err := a.WaitEvent(10*time.Second, callEvent("ended", "declined")); err != nil {
			t.Fatalf("a: %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		must(a.Call(b.id)).on(a)
		if _, err := a.WaitEvent(10*time.Second, callEvent("ended", "timeout")); err != nil {
			t.Fatalf("a: %v", err)
		}
		if _, err := b.WaitEvent(10*time.Second, callEvent("ended", "timeout")); err != nil {
			t.Fatalf("b: %v", err)
		}
	})
	t.Run("busy", func(t *testing.T) {
		id := ringAndAnswer(t, a, b)
		must(cc.Call(b.id)).on(cc)
		if _, err := cc.WaitEvent(10*time.Second, callEvent("ended", "busy")); err != nil {
			t.Fatalf("c: %v", err)
		}
		a.ok(a.Hangup(id))
		if _, err := b.WaitEvent(10*time.Second, callEvent("ended", "remote_hangup")); err != nil {
			t.Fatalf("b: %v", err)
		}
	})
	t.Run("killed mid-call", func(t *testing.T) {
		ringAndAnswer(t, cc, b)
		waitStats(t, cc, 10*time.Second, "audio", func(e netlab.Event) bool { return e.Num("frames_played") > 25 })
		if err := b.Kill(); err != nil {
			t.Fatal(err)
		}
		e, err := cc.WaitEvent(15*time.Second, callEvent("ended", ""))
		if err != nil {
			t.Fatalf("c's call outlived b: %v", err)
		}
		if r := e.Str("reason"); r != "peer_lost" {
			t.Fatalf("c's call ended with %q, want peer_lost", r)
		}
	})
}

// TestGroupCalls: four namespaces in one call (a full mesh), then five (mixed
// by the participant the selection API picks), each sending its own tone and
// recording what it hears: everyone hears all the others, nobody hears itself.
func TestGroupCalls(t *testing.T) {
	for _, n := range []int{4, 5} {
		t.Run(fmt.Sprintf("%d parties", n), func(t *testing.T) { groupCall(t, n) })
	}
}

func groupCall(t *testing.T, size int) {
	c := newCluster(t)
	dir := t.TempDir()
	names := []string{"a", "b", "c", "d", "e", "f"}[:size]
	// Prime frequencies: tones that are all harmonics of one pitch (440, 550, 660…
	// are of 110 Hz) make a mix Opus codes as a pitched voice, and its pitch filter
	// fills in the missing harmonic — a listener would "hear itself" through a
	// mixer that never sent its voice.
	tones := map[string]float64{"a": 439, "b": 557, "c": 661, "d": 773, "e": 883, "f": 991}
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
		in, err := n.WaitEventAny(10*time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("call") == id })
		if err != nil {
			t.Fatalf("%s was not rung: %v", n.name, err)
		}
		if parts, _ := in["participants"].([]any); len(parts) != size {
			t.Fatalf("%s: call_incoming lists %v", n.name, in["participants"])
		}
		n.ok(n.Answer(id))
	}
	// Who mixes, if anyone: every node's calls command names the same one.
	mixer := ""
	for i, n := range nodes {
		calls := must(n.Calls()).on(n)
		if len(calls) != 1 {
			t.Fatalf("%s lists calls %v", n.name, calls)
		}
		m := calls[0].Mixer
		if i == 0 {
			mixer = m
		} else if m != mixer {
			t.Fatalf("%s says the mixer is %q, %s said %q", n.name, m, nodes[0].name, mixer)
		}
	}
	if (size > 4) != (mixer != "") {
		t.Fatalf("a %d-party call has mixer %q", size, mixer)
	}
	t.Logf("mixer: %q", mixer)
	// Audio flows on every leg: each pair in a mesh, each member and the mixer
	// in a mixed call.
	for _, n := range nodes {
		for _, o := range nodes {
			if o == n || (mixer != "" && n.id != mixer && o.id != mixer) {
				continue
			}
			waitStats(t, n, 20*time.Second, "audio from "+o.name, func(e netlab.Event) bool {
				return e.Str("peer") == o.id && e.Num("frames_played") >= 100 && !strings.Contains(e.Str("path"), "relay")
			})
		}
	}
	// All asked to quit at once, so every recording ends with every tone in it
	// (quitting one by one, each waiting for the last to exit, left the last
	// second of d's recording without a, who had gone).
	for _, n := range nodes {
		n.ok(n.Client.Quit())
	}
	for _, n := range nodes {
		n.quitted()
	}
	for _, n := range nodes {
		if err := n.Wait(); err != nil {
			t.Fatalf("%s exit: %v", n.name, err)
		}
		got := readWAV(t, filepath.Join(dir, n.name+".wav"))
		if len(got) < 2*audio.SampleRate {
			t.Fatalf("%s recorded %d samples", n.name, len(got))
		}
		// The others' tones are judged in 200 ms windows (the median of five): over
		// the whole second, one frame the jitter buffer skipped or stretched shifts
		// a tone's phase and its halves cancel (0.04 read where every 250 ms window
		// held 0.24). A node's own tone is judged over the whole second, where a
		// concealed frame's broadband noise does not read as an echo.
		last := got[len(got)-audio.SampleRate:]
		for _, o := range names {
			if o == n.name {
				lvl := signal.ToneLevel(last, tones[o], audio.SampleRate)
				t.Logf("%s hears its own %.0f Hz at %.3f of full scale", n.name, tones[o], lvl)
				if lvl > 0.02 {
					t.Errorf("%s hears itself", n.name)
				}
				continue
			}
			lvl := signal.MedianToneLevel(last, tones[o], audio.SampleRate, audio.SampleRate/5)
			t.Logf("%s hears %s's %.0f Hz at %.3f of full scale (median of 200 ms windows)", n.name, o, tones[o], lvl)
			if lvl < 0.05 {
				t.Errorf("%s barely hears %s", n.name, o)
			}
		}
	}
}
