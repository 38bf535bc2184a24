package files

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"parley/identity"
	"parley/internal/bufpool"
)

// Receiving chunks: verified and written by workers, booked, and the file
// finished once all are in.

// chunkJob is a chunk waiting for a worker to verify and store it.
type chunkJob struct {
	from    identity.PeerID
	c       Chunk
	targets []chunkTarget
	// buf is the frame c.Data aliases when it may go back to the buffer pool
	// once the chunk is written (a direct chunk: the overlay read it into a
	// pooled buffer and handed it over); nil for an opened sealed chunk.
	buf []byte
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
	// writebackEvery is how many bytes a download writes before its worker
	// asks the kernel to start writing them to disk (startWriteback). The
	// once-a-second kick in persistAll alone left a sub-second transfer all its
	// data (about 15 % of the transfer's time at 256 MB) to the final fsync.
	writebackEvery = 8 << 20
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
// With pooled set, b is this service's to recycle (bufpool.Put) once nothing
// refers to it any more: the frame of a direct chunk.
func (s *Service) handleChunk(from identity.PeerID, b []byte, pooled bool) {
	release := func() {
		if pooled {
			bufpool.Put(b)
		}
	}
	c, err := DecodeChunk(b)
	if err != nil {
		s.count("files_drop_malformed")
		release()
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
		if src := d.sources[from]; src != nil {
			s.inferLosses(d, src, c.Index)
		}
	}
	s.mu.Unlock()
	if len(targets) == 0 {
		s.count("files_chunk_unwanted")
		release()
		return
	}
	j := chunkJob{from: from, c: c, targets: targets}
	if pooled {
		j.buf = b
	}
	s.startWorkers()
	s.working.Add(1)
	select {
	case s.work <- j:
	case <-s.quit:
		s.working.Add(-1)
		release()
	}
}

// inferLosses runs for each chunk in the order it came off the wire. A source
// serves its requests in order over an ordered path, so requests it was given
// before this chunk's and has not answered were lost (a relay dropped the
// chunk, or the source's queue was full): they are asked again at once rather
// than after a timeout.
func (s *Service) inferLosses(d *download, src *source, i uint32) {
	r, ok := src.out[i]
	if !ok || r.arrived {
		return
	}
	r.arrived = true
	src.out[i] = r
	for j, q := range src.out {
		if !q.arrived && q.seq < r.seq {
			d.forget(src, j)
			s.count("files_chunk_lost")
		}
	}
}

// processChunk verifies a chunk against the manifest, writes it and books it;
// then its buffer goes back to the pool (nothing below keeps c.Data).
func (s *Service) processChunk(j chunkJob) {
	defer bufpool.Put(j.buf)
	c, from := j.c, j.from
	o := j.targets[0].x.offer
	sum := sha256.Sum256(c.Data)
	good := len(c.Data) == o.ChunkLen(int(c.Index)) && sum == o.Chunks[c.Index]
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
			if t.d.unsynced.Add(int64(len(c.Data))) >= writebackEvery {
				// One worker wins the swap and starts the writeback; the
				// file may be closed meanwhile (finished or cancelled), which
				// only makes this a no-op.
				if t.d.unsynced.Swap(0) >= writebackEvery {
					startWriteback(t.d.file)
				}
			}
		}
		s.mu.Lock()
		var out []outMsg
		if t.x.dl == t.d {
			out = s.chunkArrived(t.x, from, c.Index, len(c.Data), good, now)
		}
		s.unlockAndSend(out)
		s.maybeFinish(t.x)
	}
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
		s.cfg.Stats.Add("files_bytes_bad", uint64(n))
		if src != nil {
			src.bad++
			// One bad chunk is enough: the link (TLS, or a sealed envelope)
			// proves who sent it, so its bytes are what the source holds, and a
			// source whose copy fails the signed manifest once will fail it
			// again. Dropped, it is never asked again for this download (its
			// later "have" answers are ignored); chunks it already has on the
			// way are still checked and kept if good.
			if !src.dropped {
				s.count("files_source_dropped_bad")
				s.cfg.Log.Warn("chunk failed its hash; source dropped from the download",
					"file", x.rec.ID, "chunk", i, "source", from.Short())
				s.dropSource(d, src)
			}
		}
		if len(d.order) == 0 {
			if x.offer.Room == "" {
				// A 1:1 offer has one source; if it serves what its own
				// manifest does not match, waiting cannot help.
				s.failLocked(x, ReasonSenderCorrupt)
				return nil
			}
			// A room file may still come from a member that has not
			// answered yet; tickDownload gives them noSourceGrace.
			if d.starved.IsZero() {
				d.starved = now
			}
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
	// The folder it was accepted into (SetDownloads may have moved on since).
	return placeFile(x.rec.Temp, filepath.Dir(x.rec.Temp), name)
}
