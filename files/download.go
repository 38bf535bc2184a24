package files

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"parley/identity"
)

// Flow control of a download (see the package doc).
const (
	initialWindow = 4  // requests outstanding at the best-ranked source before any rate is known
	minWindow     = 2  // ... at any source that delivers
	maxWindow     = 32 // 8 MiB of 256 KiB chunks in flight per source at most
	windowTarget  = 300 * time.Millisecond
	minTimeout    = 2 * time.Second
	assumedRate   = 1 << 20 // bytes/s assumed of a source not yet measured
	rateWindow    = 500 * time.Millisecond
	queryEvery    = 5 * time.Second
	persistEvery  = time.Second
	maxSources    = 32
	maxCopies     = 2 // endgame: a chunk is asked of at most this many sources at once
	stallTimeouts = 3 // consecutive timeouts that make a source a last resort
	// noSourceGrace is how long a room download whose every source was dropped
	// for bad data waits for another holder before it fails: two query rounds,
	// so every online member was asked at least once after the last drop.
	noSourceGrace = 2 * queryEvery
)

// Reasons a download fails when its sources serve data that does not match the
// signed manifest (Failed.Reason, the file_failed event's reason).
const (
	ReasonSenderCorrupt = "the sender's copy does not match its offer (changed or corrupt)"
	ReasonNoGoodSource  = "no holder serves data that matches the offer (every source sent chunks that failed their hash)"
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
	// starved is when the last usable source was dropped for bad data (zero
	// while some source is usable); see noSourceGrace.
	starved time.Time
	// unsynced counts bytes written since the last writeback was started
	// (chunks.go); workers update it outside the lock.
	unsynced atomic.Int64
}

// source is one peer a download fetches from.
type source struct {
	id       identity.PeerID
	rankPos  int
	out      map[uint32]request // outstanding requests, by chunk
	nextSeq  uint64
	window   int
	rate     rateMeter
	bytes    uint64
	timeouts int // consecutive
	bad      int
	dropped  bool
}

// request is one outstanding chunk request: when it was sent, and its place in
// the order this source was asked in (it serves in that order).
type request struct {
	at      time.Time
	seq     uint64
	arrived bool // its chunk is off the wire, waiting for a worker
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

func setBit(b []byte, i int) { b[i/8] |= 0x80 >> (i % 8) }

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
