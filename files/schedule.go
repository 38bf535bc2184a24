package files

import (
	"slices"
	"time"

	"parley/identity"
)

// Scheduling a download: which source is asked for which chunk, when, and how
// many at once (see the package doc, "Multi-source").

// startSources asks the offer's author, and for a room file every online member,
// who holds the file.
func (s *Service) startSources(x *xfer, now time.Time) []outMsg {
	d := x.dl
	d.queried = now
	out := s.addSource(x, x.offer.From(), now)
	if x.offer.Room != "" {
		for _, m := range s.cfg.Rooms.Members(x.offer.Room) {
			if m != s.self && d.sources[m] == nil && s.cfg.Net.Online(m) {
				out = append(out, outMsg{to: m, typ: TypeQuery, body: EncodeRoot(x.offer.Root)})
			}
		}
	}
	return out
}

// addSource adds a peer that holds the file and asks it for chunks.
func (s *Service) addSource(x *xfer, p identity.PeerID, now time.Time) []outMsg {
	d := x.dl
	if d == nil || d.done || p == s.self {
		return nil
	}
	if src := d.sources[p]; src != nil {
		if src.dropped {
			return nil
		}
		return s.pump(x, now)
	}
	if len(d.sources) >= maxSources {
		return nil
	}
	d.sources[p] = &source{id: p, out: map[uint32]request{}, window: minWindow}
	d.starved = time.Time{}
	s.rank(d)
	return s.pump(x, now)
}

// rank orders the sources by link quality and sets the first one's window.
func (s *Service) rank(d *download) {
	ids := make([]identity.PeerID, 0, len(d.sources))
	for id := range d.sources {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b identity.PeerID) int { return a.Compare(b) })
	if s.cfg.Ranker != nil {
		ranked := s.cfg.Ranker.Rank(ids)
		rest := slices.DeleteFunc(slices.Clone(ids), func(id identity.PeerID) bool { return slices.Contains(ranked, id) })
		ids = append(slices.Clone(ranked), rest...)
	}
	for i, id := range ids {
		if src := d.sources[id]; src != nil {
			src.rankPos = i
			if !src.rate.primed && src.timeouts == 0 {
				src.window = minWindow
				if i == 0 {
					src.window = initialWindow
				}
			}
		}
	}
	s.order(d)
}

// order sorts usable sources by preference: measured rate (faster first), then
// rank. Sources that keep timing out go last.
func (s *Service) order(d *download) {
	d.order = d.order[:0]
	for _, src := range d.sources {
		if !src.dropped {
			d.order = append(d.order, src)
		}
	}
	slices.SortFunc(d.order, func(a, b *source) int {
		as, bs := a.timeouts >= stallTimeouts, b.timeouts >= stallTimeouts
		switch {
		case as != bs:
			if as {
				return 1
			}
			return -1
		case a.rate.rate != b.rate.rate:
			if a.rate.rate > b.rate.rate {
				return -1
			}
			return 1
		}
		return a.rankPos - b.rankPos
	})
}

// pump hands out chunk requests to sources with room in their window, best
// first. When every missing chunk is already asked for, a free source also takes
// the oldest outstanding request of another (endgame), so a slow source cannot
// hold back the last chunks.
func (s *Service) pump(x *xfer, now time.Time) []outMsg {
	d := x.dl
	if d == nil || d.done {
		return nil
	}
	var out []outMsg
	chunk := x.offer.ChunkSize
	for _, src := range d.order {
		if src.dropped || !s.cfg.Net.Online(src.id) {
			continue
		}
		var idx []uint32
		for len(src.out) < src.window {
			i, ok := s.nextChunk(d, src, chunk, now)
			if !ok {
				break
			}
			src.out[i] = request{at: now, seq: src.nextSeq}
			src.nextSeq++
			d.flight[i] = append(d.flight[i], src.id)
			idx = append(idx, i)
		}
		for len(idx) > 0 {
			n := min(len(idx), maxReqIndices)
			out = append(out, outMsg{to: src.id, typ: TypeReq, body: EncodeRequest(Request{Root: x.offer.Root, Indices: idx[:n]})})
			idx = idx[n:]
		}
	}
	return out
}

func (s *Service) nextChunk(d *download, src *source, chunk uint32, now time.Time) (uint32, bool) {
	for len(d.todo) > 0 {
		i := d.todo[0]
		d.todo = d.todo[1:]
		d.queued[i] = false
		if !hasBit(d.have, int(i)) && len(d.flight[i]) == 0 {
			return i, true
		}
	}
	// Endgame: ask src too for the request that will take longest elsewhere,
	// if src would clearly deliver it sooner (a duplicate of a chunk that is
	// about to arrive anyway only wastes the link).
	if src.timeouts >= stallTimeouts {
		return 0, false
	}
	mine := float64(len(src.out)+1) * src.secondsPerChunk(chunk)
	var best uint32
	var bestLeft float64
	found := false
	for i, who := range d.flight {
		if len(who) >= maxCopies || slices.Contains(who, src.id) {
			continue
		}
		h := d.sources[who[0]]
		left := h.remaining(i, chunk, now)
		if left > 2*mine && (!found || left > bestLeft || left == bestLeft && i < best) {
			best, bestLeft, found = i, left, true
		}
	}
	return best, found
}

// secondsPerChunk is how long src takes per chunk at its measured (or assumed)
// rate.
func (src *source) secondsPerChunk(chunk uint32) float64 {
	rate := src.rate.rate
	if !src.rate.primed || rate < 1 {
		rate = assumedRate
	}
	return float64(chunk) / rate
}

// remaining estimates the seconds until src delivers chunk i: its place in
// src's queue of requests at src's rate, less the time it has already waited.
func (src *source) remaining(i uint32, chunk uint32, now time.Time) float64 {
	sent := src.out[i]
	ahead := 0
	for _, r := range src.out {
		if r.seq < sent.seq {
			ahead++
		}
	}
	return float64(ahead+1)*src.secondsPerChunk(chunk) - now.Sub(sent.at).Seconds()
}

// requeue puts a chunk back at the front of the queue.
func (d *download) requeue(i uint32) {
	if hasBit(d.have, int(i)) || d.queued[i] || len(d.flight[i]) > 0 {
		return
	}
	d.queued[i] = true
	d.todo = append([]uint32{i}, d.todo...)
}

// forget removes one outstanding request.
func (d *download) forget(src *source, i uint32) {
	delete(src.out, i)
	who := slices.DeleteFunc(d.flight[i], func(p identity.PeerID) bool { return p == src.id })
	if len(who) == 0 {
		delete(d.flight, i)
		d.requeue(i)
	} else {
		d.flight[i] = who
	}
}

func (s *Service) dropSource(d *download, src *source) {
	src.dropped = true
	for i := range src.out {
		d.forget(src, i)
	}
	s.order(d)
}

// timeoutFor is how long a request to src may take: the time its window takes
// at its measured (or assumed) rate, three times over, plus a floor.
func timeoutFor(src *source, chunk uint32) time.Duration {
	rate := src.rate.rate
	if !src.rate.primed || rate < 1 {
		rate = assumedRate
	}
	return minTimeout + time.Duration(3*float64(src.window)*float64(chunk)/rate*float64(time.Second))
}

// tickDownload expires requests, updates rates and windows, asks the room for
// new sources now and then, and refills the windows.
func (s *Service) tickDownload(x *xfer, now time.Time) []outMsg {
	d := x.dl
	if d.done {
		return nil
	}
	d.rate.roll(now, true)
	var out []outMsg
	for _, src := range d.sources {
		if src.dropped {
			continue
		}
		if !s.cfg.Net.Online(src.id) {
			// Vanished: its requests go to others; it is asked again when back.
			for i := range src.out {
				d.forget(src, i)
			}
			continue
		}
		src.rate.roll(now, len(src.out) > 0)
		src.window = max(1, min(src.window, src.maxWindow(x.offer.ChunkSize)))
		limit := timeoutFor(src, x.offer.ChunkSize)
		expired := false
		for i, r := range src.out {
			if now.Sub(r.at) > limit {
				d.forget(src, i)
				expired = true
				s.count("files_request_timeout")
			}
		}
		if expired {
			src.timeouts++
			src.window = max(1, src.window/2)
		}
	}
	if x.offer.Room != "" && now.Sub(d.queried) >= queryEvery {
		d.queried = now
		for _, m := range s.cfg.Rooms.Members(x.offer.Room) {
			if m != s.self && d.sources[m] == nil && s.cfg.Net.Online(m) {
				out = append(out, outMsg{to: m, typ: TypeQuery, body: EncodeRoot(x.offer.Root)})
			}
		}
	}
	s.order(d)
	if len(d.order) == 0 && !d.starved.IsZero() && now.Sub(d.starved) >= noSourceGrace {
		// Every holder that answered served bad data and nobody else came
		// forward: waiting longer would leave the download hanging for good.
		s.failLocked(x, ReasonNoGoodSource)
		return nil
	}
	return append(out, s.pump(x, now)...)
}

// maxWindow is the most requests a source may have outstanding: the chunks its
// measured rate delivers in windowTarget, plus minWindow so the pipe never runs
// dry between a chunk and the next request; maxWindow before any measurement.
func (src *source) maxWindow(chunk uint32) int {
	if !src.rate.primed {
		return maxWindow
	}
	return max(minWindow, min(maxWindow, minWindow+int(src.rate.rate*windowTarget.Seconds()/float64(chunk))))
}
