package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"parley/internal/netlab"
	"parley/media/audio"
)

// Prime frequencies, as in itest TestGroupCalls: no tone is a harmonic of another.
var tones = []float64{439, 557, 661, 773, 883}

// Each wait below is bounded: a run that does not converge in these fails the
// bench rather than hanging it.
const (
	peersWithin = time.Minute
	audioWithin = 30 * time.Second
	movedWithin = 20 * time.Second
)

// relayKilled: a on the first segment calls z on the second; r1 and r2 sit on
// both. Three seconds into the relayed audio the relay used is killed; the
// call moves to the other.
func (b *bench) relayKilled(run int) (gapRun, error) {
	p := fmt.Sprintf("r%d", run)
	wav := func(n string) string { return filepath.Join(b.dir, p+n+".wav") }
	var nodes []*node
	defer func() { stopAll(nodes) }()
	for _, s := range []struct {
		name string
		segs []*netlab.Segment
		in   string
	}{
		{"a", []*netlab.Segment{b.seg1}, "tone:439"},
		{"r1", []*netlab.Segment{b.seg1, b.seg2}, "null"},
		{"r2", []*netlab.Segment{b.seg1, b.seg2}, "null"},
		{"z", []*netlab.Segment{b.seg2}, "tone:661"},
	} {
		out := "null"
		if s.in != "null" {
			out = wav(s.name)
		}
		n, err := b.start(p+s.name, s.segs, "--audio-in", s.in, "--audio-out", out)
		if err != nil {
			return gapRun{}, err
		}
		nodes = append(nodes, n)
	}
	a, r1, r2, z := nodes[0], nodes[1], nodes[2], nodes[3]
	for _, n := range []*node{a, z} {
		if err := n.waitPeerUp(peersWithin, nodes...); err != nil {
			return gapRun{}, err
		}
	}
	// Both relays linked to both ends (a route through a bridge still
	// dialling one end drops the invite; see itest TestFailover).
	for _, r := range []*node{r1, r2} {
		if err := until(peersWithin, func() bool { return linked(r, a.id, z.id) }); err != nil {
			return gapRun{}, fmt.Errorf("%s never linked both ends", r.name)
		}
	}
	id, err := a.Call(z.id)
	if err != nil {
		return gapRun{}, err
	}
	if _, err := z.WaitEventAny(15*time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("call") == id }); err != nil {
		return gapRun{}, fmt.Errorf("z was not rung: %w", err)
	}
	if err := z.Answer(id); err != nil {
		return gapRun{}, err
	}
	st, err := a.WaitEventAny(audioWithin, func(e netlab.Event) bool {
		return e.Name() == "call_stats" && e.Num("frames_played") >= 150 && e.Str("relay") != ""
	})
	if err != nil {
		return gapRun{}, fmt.Errorf("no relayed audio: %w", err)
	}
	// Three seconds of steady audio before the kill: the window in which a
	// stall of the machine's own shows (the "before" column).
	steady := time.Now()
	time.Sleep(3 * time.Second)
	relay, other := r1, r2
	if st.Str("relay") == r2.id {
		relay, other = r2, r1
	}
	killed := time.Now()
	if err := relay.Kill(); err != nil {
		return gapRun{}, err
	}
	res := gapRun{steady: steady, killed: killed}
	for _, n := range []*node{a, z} {
		if err := waitMoved(n, id, "relay_moved"); err != nil {
			return gapRun{}, err
		}
		res.moved = max(res.moved, time.Since(killed))
	}
	for _, n := range []*node{a, z} {
		if _, err := n.WaitEventAny(audioWithin, func(e netlab.Event) bool {
			return e.Name() == "call_stats" && e.Str("call") == id && e.Str("relay") == other.id && e.Num("frames_played") >= 150
		}); err != nil {
			return gapRun{}, fmt.Errorf("%s: no audio through %s: %w", n.name, other.name, err)
		}
	}
	res.load = load()
	stopAll([]*node{a, z})
	sinceKill := time.Since(killed)
	for _, pr := range []struct {
		wav string
		hz  float64
	}{{wav("a"), 661}, {wav("z"), 439}} {
		if err := res.add(pr.wav, pr.hz, sinceKill); err != nil {
			return gapRun{}, err
		}
	}
	return res, nil
}

// mixerKilled: a calls b, c, d and e (more than a mesh: one mixes); three
// seconds into the mixer's audio from everyone it is killed.
func (b *bench) mixerKilled(run int) (gapRun, error) {
	p := fmt.Sprintf("m%d", run)
	names := []string{"a", "b", "c", "d", "e"}
	wav := func(n string) string { return filepath.Join(b.dir, p+n+".wav") }
	var nodes []*node
	defer func() { stopAll(nodes) }()
	hz := map[*node]float64{}
	for i, name := range names {
		n, err := b.start(p+name, []*netlab.Segment{b.seg1}, "--audio-in", fmt.Sprintf("tone:%.0f", tones[i]), "--audio-out", wav(name))
		if err != nil {
			return gapRun{}, err
		}
		nodes = append(nodes, n)
		hz[n] = tones[i]
	}
	for _, n := range nodes {
		if err := n.waitPeerUp(peersWithin, nodes...); err != nil {
			return gapRun{}, err
		}
	}
	var peers []string
	for _, n := range nodes[1:] {
		peers = append(peers, n.id)
	}
	id, err := nodes[0].Call(peers...)
	if err != nil {
		return gapRun{}, err
	}
	for _, n := range nodes[1:] {
		if _, err := n.WaitEventAny(15*time.Second, func(e netlab.Event) bool { return e.Name() == "call_incoming" && e.Str("call") == id }); err != nil {
			return gapRun{}, fmt.Errorf("%s was not rung: %w", n.name, err)
		}
		if err := n.Answer(id); err != nil {
			return gapRun{}, err
		}
	}
	calls, err := nodes[0].Calls()
	if err != nil || len(calls) != 1 || calls[0].Mixer == "" {
		return gapRun{}, fmt.Errorf("not a mixed call: %+v %v", calls, err)
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
	if mixer == nil {
		return gapRun{}, fmt.Errorf("mixer %s is not a participant", calls[0].Mixer)
	}
	for _, o := range rest {
		if err := hearsFrom(mixer, o); err != nil {
			return gapRun{}, err
		}
	}
	steady := time.Now()
	time.Sleep(3 * time.Second) // as in relayKilled
	killed := time.Now()
	if err := mixer.Kill(); err != nil {
		return gapRun{}, err
	}
	res := gapRun{steady: steady, killed: killed}
	for _, n := range rest {
		if err := waitMoved(n, id, "mixer_moved"); err != nil {
			return gapRun{}, err
		}
		res.moved = max(res.moved, time.Since(killed))
	}
	c, err := rest[0].Calls()
	if err != nil || len(c) != 1 {
		return gapRun{}, fmt.Errorf("%s's calls after the kill: %+v %v", rest[0].name, c, err)
	}
	for _, mx := range rest {
		if mx.id != c[0].Mixer {
			continue
		}
		for _, o := range rest {
			if o != mx {
				if err := hearsFrom(mx, o); err != nil {
					return gapRun{}, err
				}
			}
		}
	}
	res.load = load()
	stopAll(rest)
	sinceKill := time.Since(killed)
	for _, n := range rest {
		for _, o := range rest {
			if o != n {
				if err := res.add(wav(strings.TrimPrefix(n.name, p)), hz[o], sinceKill); err != nil {
					return gapRun{}, err
				}
			}
		}
	}
	return res, nil
}

// hearsFrom waits until mx played 3 s of o's audio on their leg.
func hearsFrom(mx, o *node) error {
	if _, err := mx.WaitEventAny(audioWithin, func(e netlab.Event) bool {
		return e.Name() == "call_stats" && e.Str("peer") == o.id && e.Num("frames_played") >= 150
	}); err != nil {
		return fmt.Errorf("%s never heard %s: %w\n%s", mx.name, o.name, err, mx.Tail())
	}
	return nil
}

func waitMoved(n *node, id, reason string) error {
	if _, err := n.WaitEventAny(movedWithin, func(e netlab.Event) bool {
		return e.Name() == "call_state" && e.Str("call") == id && e.Str("reason") == reason && e.Str("state") == "active"
	}); err != nil {
		return fmt.Errorf("%s: no %s: %w", n.name, reason, err)
	}
	return nil
}

func linked(n *node, peers ...string) bool {
	ls, err := n.Links()
	if err != nil {
		return false
	}
	for _, p := range peers {
		found := false
		for _, l := range ls {
			found = found || l.Peer == p
		}
		if !found {
			return false
		}
	}
	return true
}

// add reads one listener's recording and adds its gap for tone hz.
func (r *gapRun) add(wav string, hz float64, sinceKill time.Duration) error {
	pcm, err := audio.ReadWAVFile(wav)
	if err != nil {
		return err
	}
	g, before := failoverGap(pcm, hz, sinceKill, sinceKill+r.killed.Sub(r.steady))
	r.gaps = append(r.gaps, g)
	r.before = max(r.before, before)
	return nil
}
