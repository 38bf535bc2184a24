package files

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"parley/identity"
)

// Flow control of a download (see the package doc).
const (
	initialWindow   = 4  // requests outstanding at the best-ranked source before any rate is known
	minWindow       = 2  // ... at any source that delivers
	maxWindow       = 32 // 8 MiB of 256 KiB chunks in flight per source at most
	windowTarget    = 300 * time.Millisecond
	minTimeout      = 2 * time.Second
	assumedRate     = 1 << 20 // bytes/s assumed of a source not yet measured
	rateWindow      = 500 * time.Millisecond
	queryEvery      = 5 * time.Second
	persistEvery    = time.Second
	maxSources      = 32
	maxCopies       = 2 // endgame: a chunk is asked of at most this many sources at once
	stallTimeouts   = 3 // consecutive timeouts that make a source a last resort
	persistAttempts = 3
)

// download is the state of one active download.
type download struct {
	file    *os.File
	have    []byte // bitmap, bit i = chunk i verified on disk
	haveN   int
	bytes   uint64
	todo    []uint32 // chunks to request, in order; requeued ones go first
	queued  []bool
	flight  map[uint32][]identity.PeerID // chunk → sources asked now
	sources map[identity.PeerID]*source
	order   []*source // by preference, rebuilt each tick
	rate    rateMeter
	dirty   bool
	saved   time.Time
	queried time.Time
	done    bool // all chunks here; finishing
}

// source is one peer a download fetches from.
type source struct {
	id       identity.PeerID
	rankPos  int
	out      map[uint32]time.Time // outstanding requests, by chunk, with send time
	window   int
	rate     rateMeter
	bytes    uint64
	timeouts int // consecutive
	bad      int
	dropped  bool
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

// rateMeter is an exponentially weighted rate over rateWindow-long windows.
type rateMeter struct {
	rate   float64 // bytes/s
	acc    uint64
	start  time.Time
	primed bool
}

func (m *rateMeter) add(n int) { m.acc += uint64(n) }

// roll closes the current window if it is long enough; busy says whether the
// source had work (an idle source's rate is not decayed to zero).
func (m *rateMeter) roll(now time.Time, busy bool) {
	if m.start.IsZero() {
		m.start = now
		return
	}
	el := now.Sub(m.start)
	if el < rateWindow {
		return
	}
	if busy || m.acc > 0 {
		inst := float64(m.acc) / el.Seconds()
		if !m.primed {
			m.rate, m.primed = inst, true
		} else {
			m.rate = 0.6*m.rate + 0.4*inst
		}
	}
	m.acc, m.start = 0, now
}

func hasBit(b []byte, i int) bool { return b[i/8]&(0x80>>(i%8)) != 0 }
func setBit(b []byte, i int)      { b[i/8] |= 0x80 >> (i % 8) }

// resume opens (or creates) the partial file of an accepted download and
// rebuilds its state; chunks the stored bitmap claims are re-verified, so data
// that never reached the disk before a crash is simply fetched again.
func (s *Service) resume(x *xfer, have []byte, now time.Time) error {
	o := x.offer
	f, err := os.OpenFile(x.rec.Temp, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("partial file: %w", err)
	}
	if err := preallocate(f, int64(o.Size)); err != nil {
		f.Close()
		return fmt.Errorf("partial file: %w", err)
	}
	n := len(o.Chunks)
	d := &download{file: f, have: make([]byte, (n+7)/8), queued: make([]bool, n),
		flight: map[uint32][]identity.PeerID{}, sources: map[identity.PeerID]*source{}, saved: now}
	if have != nil {
		// Chunks the bitmap claims are checked; so are chunks written after its
		// last save (a crash keeps them in the file: they are not zero any more).
		// Holes in the sparse file read as zeros and are skipped cheaply.
		buf := make([]byte, o.ChunkSize)
		claimed := len(have) == len(d.have)
		for i := 0; i < n; i++ {
			l := o.ChunkLen(i)
			if _, err := f.ReadAt(buf[:l], int64(i)*int64(o.ChunkSize)); err != nil {
				continue
			}
			mine := claimed && hasBit(have, i)
			if !mine && allZero(buf[:l]) {
				continue
			}
			if sha256.Sum256(buf[:l]) != o.Chunks[i] {
				if mine {
					s.count("files_resume_chunk_lost")
				}
				continue
			}
			if !mine {
				s.count("files_resume_chunk_recovered")
			}
			setBit(d.have, i)
			d.haveN++
			d.bytes += uint64(l)
		}
	}
	for i := 0; i < n; i++ {
		if !hasBit(d.have, i) {
			d.todo = append(d.todo, uint32(i))
			d.queued[i] = true
		}
	}
	d.done = d.haveN == n
	x.dl = d
	x.lastBytes = d.bytes
	s.byRoot[o.Root] = append(s.byRoot[o.Root], x)
	return nil
}

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
	d.sources[p] = &source{id: p, out: map[uint32]time.Time{}, window: minWindow}
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
			src.out[i] = now
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
	for _, at := range src.out {
		if at.Before(sent) {
			ahead++
		}
	}
	return float64(ahead+1)*src.secondsPerChunk(chunk) - now.Sub(sent).Seconds()
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
		for i, at := range src.out {
			if now.Sub(at) > limit {
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
	if src := d.sources[x.offer.From()]; src == nil && now.Sub(d.queried) >= queryEvery/2 && s.cfg.Net.Online(x.offer.From()) {
		out = append(out, s.addSource(x, x.offer.From(), now)...)
	}
	s.order(d)
	return append(out, s.pump(x, now)...)
}

// chunkJob is a chunk waiting for a worker to verify and store it.
type chunkJob struct {
	from    identity.PeerID
	c       Chunk
	targets []chunkTarget
}

type chunkTarget struct {
	x *xfer
	d *download
}

// chunkWorkers verify and write chunks off the link's reader goroutine, so
// decrypting the next frame, hashing and writing overlap (on a fast link the
// reader alone would be the bottleneck). The queue is short: when the disk or
// CPU falls behind, the reader blocks and TCP pushes back on the sender.
const (
	chunkWorkers = 2
	chunkQueue   = 4
)

func (s *Service) startWorkers() {
	s.workOnce.Do(func() {
		for i := 0; i < chunkWorkers; i++ {
			s.workers.Add(1)
			go func() {
				defer s.workers.Done()
				for {
					select {
					case <-s.quit:
						return
					case j := <-s.work:
						s.processChunk(j)
						s.working.Add(-1)
					}
				}
			}()
		}
	})
}

// stopWorkers ends the chunk workers once their current job is done; chunks
// still queued are dropped (their requests time out and are made again).
func (s *Service) stopWorkers() {
	s.quitOnce.Do(func() { close(s.quit) })
	s.workers.Wait()
}

// handleChunk finds the downloads a chunk belongs to and queues it for a worker.
func (s *Service) handleChunk(from identity.PeerID, b []byte) {
	c, err := DecodeChunk(b)
	if err != nil {
		s.count("files_drop_malformed")
		return
	}
	s.mu.Lock()
	var targets []chunkTarget
	for _, x := range s.byRoot[c.Root] {
		d := x.dl
		if d == nil || d.done || int(c.Index) >= len(x.offer.Chunks) || hasBit(d.have, int(c.Index)) {
			continue
		}
		// Only chunks we asked for (of anyone: endgame duplicates) are taken.
		if len(d.flight[c.Index]) == 0 && d.sources[from] == nil {
			continue
		}
		targets = append(targets, chunkTarget{x, d})
	}
	s.mu.Unlock()
	if len(targets) == 0 {
		s.count("files_chunk_unwanted")
		return
	}
	s.startWorkers()
	s.working.Add(1)
	select {
	case s.work <- chunkJob{from: from, c: c, targets: targets}:
	case <-s.quit:
		s.working.Add(-1)
	}
}

// processChunk verifies a chunk against the manifest, writes it and books it.
func (s *Service) processChunk(j chunkJob) {
	c, from := j.c, j.from
	o := j.targets[0].x.offer
	sum := sha256.Sum256(c.Data)
	good := len(c.Data) == o.ChunkLen(int(c.Index)) && sum == o.Chunks[c.Index]
	var out []outMsg
	now := s.cfg.Now()
	for _, t := range j.targets {
		if good {
			// Written outside the lock: WriteAt is safe concurrently, and the bit is
			// set only after the data is in the file.
			if _, err := t.d.file.WriteAt(c.Data, int64(c.Index)*int64(o.ChunkSize)); err != nil {
				s.mu.Lock()
				if t.x.dl == t.d {
					s.failLocked(t.x, fmt.Sprintf("write: %v", err))
				}
				s.mu.Unlock()
				continue
			}
		}
		s.mu.Lock()
		if t.x.dl == t.d {
			out = append(out, s.chunkArrived(t.x, from, c.Index, len(c.Data), good, now)...)
		}
		s.mu.Unlock()
		s.maybeFinish(t.x)
	}
	s.sendAll(out)
}

// chunkArrived books a chunk: a good one is counted and its requests closed; a
// bad one drops its source and the chunk is asked of another.
func (s *Service) chunkArrived(x *xfer, from identity.PeerID, i uint32, n int, good bool, now time.Time) []outMsg {
	d := x.dl
	if d == nil || d.done {
		return nil
	}
	src := d.sources[from]
	if !good {
		s.count("files_chunk_bad")
		s.cfg.Log.Warn("chunk failed its hash; source dropped", "file", x.rec.ID, "chunk", i, "source", from.Short())
		if src != nil {
			src.bad++
			s.dropSource(d, src)
		}
		return s.pump(x, now)
	}
	if hasBit(d.have, int(i)) {
		s.count("files_chunk_dup")
		return nil
	}
	setBit(d.have, int(i))
	d.haveN++
	d.bytes += uint64(n)
	d.dirty = true
	d.rate.add(n)
	s.cfg.Stats.Add("files_bytes_received", uint64(n))
	if src != nil {
		src.bytes += uint64(n)
		src.rate.add(n)
		src.timeouts = 0
		// Slow start: every delivered chunk widens the window by one (it doubles
		// per round trip) up to what the source's measured rate justifies.
		if src.window < src.maxWindow(x.offer.ChunkSize) {
			src.window++
		}
	}
	// Every request for it is answered (duplicates still on the way are dups).
	for _, p := range d.flight[i] {
		if o := d.sources[p]; o != nil {
			delete(o.out, i)
		}
	}
	delete(d.flight, i)
	if d.haveN == len(x.offer.Chunks) {
		d.done = true
		return nil
	}
	return s.pump(x, now)
}

// maybeFinish completes a download whose chunks are all in: the file is synced
// and checked against the whole-file hash, then moved into the downloads folder
// under a free name.
func (s *Service) maybeFinish(x *xfer) {
	s.mu.Lock()
	d := x.dl
	if d == nil || !d.done || x.rec.State != StateActive {
		s.mu.Unlock()
		return
	}
	x.dl = nil // claimed: nobody else finishes it
	s.removeDownload(x)
	s.mu.Unlock()

	path, err := s.finish(x, d)
	s.mu.Lock()
	if err != nil {
		x.dl = d
		s.failLocked(x, err.Error())
		s.mu.Unlock()
		return
	}
	x.rec.State, x.rec.Path, x.rec.Temp = StateDone, path, ""
	if err := s.saveLocked(x); err != nil {
		s.cfg.Log.Warn("save finished transfer", "id", x.rec.ID, "err", err)
	}
	s.addSeed(x)
	s.mu.Unlock()
	s.count("files_done")
	s.emit(Progress{ID: x.rec.ID, Bytes: x.offer.Size, Total: x.offer.Size, Rate: d.rate.rate})
	s.emit(Done{ID: x.rec.ID, Path: path, Hash: x.offer.Root.String()})
	s.sendControl(x.offer.From(), TypeAnswer, EncodeAnswer(Answer{ID: x.offer.ID, Verdict: VerdictDone}))
}

func (s *Service) finish(x *xfer, d *download) (string, error) {
	o := x.offer
	if err := d.file.Sync(); err != nil {
		d.file.Close()
		return "", fmt.Errorf("sync: %w", err)
	}
	// The whole-file check: every chunk's SHA-256 was computed over the very
	// bytes written (or re-read from disk on resume) and matched the manifest,
	// whose hash is the root the author signed. Reading the file back once more
	// would cost a second hashing pass over it (about an eighth of a fast
	// transfer's CPU) to guard against the disk alone.
	st, err := d.file.Stat()
	d.file.Close()
	if err != nil {
		return "", fmt.Errorf("verify: %w", err)
	}
	if d.haveN != len(o.Chunks) || uint64(st.Size()) != o.Size || RootOf(o.Chunks) != o.Root {
		return "", errors.New("verify: the file is incomplete or does not match its hash")
	}
	name, err := SafeName(o.Name)
	if err != nil {
		return "", err
	}
	return placeFile(x.rec.Temp, s.cfg.Downloads, name)
}

func (s *Service) removeDownload(x *xfer) {
	list := slices.DeleteFunc(slices.Clone(s.byRoot[x.offer.Root]), func(y *xfer) bool { return y == x })
	if len(list) == 0 {
		delete(s.byRoot, x.offer.Root)
	} else {
		s.byRoot[x.offer.Root] = list
	}
}

// stopDownload closes an active download (its partial file stays).
func (s *Service) stopDownload(x *xfer) {
	if x.dl == nil {
		return
	}
	x.dl.file.Close()
	x.dl = nil
	s.removeDownload(x)
}

// persistAll saves the have-bitmaps of downloads that changed (at most every
// persistEvery, or now when force). The partial file is not synced first (an
// fsync a second halves a fast transfer): a saved bit may run ahead of the data
// after a power cut, but resume re-hashes every claimed chunk, so such a chunk
// is fetched again rather than trusted. Writeback is started, not awaited.
func (s *Service) persistAll(force bool) {
	now := s.cfg.Now()
	type job struct {
		id   string
		f    *os.File
		have []byte
	}
	var jobs []job
	s.mu.Lock()
	for _, x := range s.xfers {
		d := x.dl
		if d == nil || !d.dirty || !force && now.Sub(d.saved) < persistEvery {
			continue
		}
		d.dirty, d.saved = false, now
		jobs = append(jobs, job{x.rec.ID, d.file, bytes.Clone(d.have)})
	}
	s.mu.Unlock()
	for _, j := range jobs {
		if err := startWriteback(j.f); err != nil && !errors.Is(err, os.ErrClosed) {
			s.cfg.Log.Debug("start writeback of partial file", "id", j.id, "err", err)
		}
		if err := s.cfg.Store.SetTransferHave(j.id, j.have); err != nil {
			s.cfg.Log.Warn("save download state", "id", j.id, "err", err)
		}
	}
}

func (s *Service) closeAll() {
	s.stopWorkers()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.xfers {
		if x.dl != nil {
			x.dl.file.Close()
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
