package files

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"slices"
	"time"

	"parley/identity"
	"parley/internal/bufpool"
)

// Serving: requests are queued per requesting peer and served by one goroutine
// per peer, which paces itself by the overlay's bulk lane (SendBulk waits for
// room), so the link's reader never blocks on disk or network.

const (
	maxServeQueue = 256 // chunk requests waiting per peer; more are dropped (the asker retries)
	sendTimeout   = 10 * time.Second
)

type serveJob struct {
	x     *xfer
	index uint32
}

type server struct {
	peer   identity.PeerID
	jobs   []serveJob
	queued map[serveKey]bool
	files  map[string]*os.File // open sources, by path
}

type serveKey struct {
	root  Hash
	index uint32
}

func (s *Service) handleRequest(from identity.PeerID, b []byte) error {
	req, err := DecodeRequest(b)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.seedFor(req.Root, from)
	if !ok {
		s.count("files_request_denied")
		return nil
	}
	sv := s.servers[from]
	if sv == nil {
		sv = &server{peer: from, queued: map[serveKey]bool{}, files: map[string]*os.File{}}
		s.servers[from] = sv
		s.wg.Add(1)
		go s.serve(sv)
	}
	for _, i := range req.Indices {
		k := serveKey{req.Root, i}
		switch {
		case int(i) >= len(x.offer.Chunks):
			s.count("files_request_bad_index")
		case sv.queued[k]:
			// Asked again (the first request timed out at the asker): serve it
			// in its new place, since the asker infers losses from the order.
			sv.jobs = slices.DeleteFunc(sv.jobs, func(j serveJob) bool { return j.x.offer.Root == req.Root && j.index == i })
			sv.jobs = append(sv.jobs, serveJob{x, i})
		case len(sv.jobs) >= maxServeQueue:
			s.count("files_request_queue_full")
		default:
			sv.queued[k] = true
			sv.jobs = append(sv.jobs, serveJob{x, i})
		}
	}
	return nil
}

// serve sends the queued chunks for one peer, then ends.
func (s *Service) serve(sv *server) {
	defer s.wg.Done()
	defer func() {
		for _, f := range sv.files {
			f.Close()
		}
	}()
	for {
		s.mu.Lock()
		if len(sv.jobs) == 0 {
			delete(s.servers, sv.peer)
			s.mu.Unlock()
			return
		}
		j := sv.jobs[0]
		sv.jobs = sv.jobs[1:]
		delete(sv.queued, serveKey{j.x.offer.Root, j.index})
		path := j.x.rec.Path
		ctx := s.ctx
		seeded := slices.Contains(s.seeds[j.x.offer.Root], j.x)
		s.mu.Unlock()
		if !seeded {
			continue // no longer served (its file changed, or the offer ended)
		}
		if ctx.Err() != nil {
			continue // shutting down: drain without sending
		}
		f := sv.files[path]
		if f == nil {
			var err error
			if f, err = os.Open(path); err != nil {
				s.count("files_serve_read_failed")
				continue
			}
			sv.files[path] = f
		}
		o := j.x.offer
		l := o.ChunkLen(int(j.index))
		// The overlay copies what it sends, so the buffer goes back to the pool
		// right after. (Not one buffer per goroutine: this goroutine ends
		// whenever the peer's queue runs dry, which on a fast link is every
		// few dozen chunks.)
		buf := bufpool.Get(chunkHeaderLen + l)
		frame := AppendChunk(buf[:0], o.Root, j.index, nil)[:chunkHeaderLen+l]
		t0 := time.Now()
		if _, err := f.ReadAt(frame[chunkHeaderLen:], int64(j.index)*int64(o.ChunkSize)); err != nil {
			bufpool.Put(buf)
			s.count("files_serve_read_failed")
			continue
		}
		intact, err := s.sourceIntact(j.x, f, j.index, frame[chunkHeaderLen:], t0)
		if err != nil {
			bufpool.Put(buf)
			s.count("files_serve_read_failed")
			continue
		}
		if !intact {
			// The file changed on disk since it was hashed (or the disk lies):
			// what we would send is not what we signed. Sending it would make
			// the recipient blame us for corruption and waste the link.
			bufpool.Put(buf)
			s.count("files_chunk_changed")
			s.sourceChanged(j.x, j.index)
			continue
		}
		if hostileBuild {
			s.corruptServed(frame[chunkHeaderLen:], j.index)
		}
		sent := s.sendChunk(ctx, sv.peer, frame)
		bufpool.Put(buf)
		if sent {
			s.cfg.Stats.Add("files_bytes_sent", uint64(l))
			s.mu.Lock()
			j.x.served += uint64(l)
			s.mu.Unlock()
		}
	}
}

// sourceIntact says whether data, just read (from t0 on) from f for chunk i
// of x's file, is what the manifest says. Where the file's stamps are trusted
// for that chunk (sourceid.go) an fstat tells; otherwise the chunk is hashed,
// and once it matches outside the racy window, the stamps are trusted for it
// from then on. A seed whose identity was never taken (restored after a
// restart, or a finished download) takes it here, at its first serve: every
// chunk is then hashed once before the stamps stand for it.
func (s *Service) sourceIntact(x *xfer, f *os.File, i uint32, data []byte, t0 time.Time) (bool, error) {
	id, ok, err := identify(f) // after the read: a change during it moved the stamps
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	if ok && !x.src.known {
		x.src.id, x.src.known = id, true
	}
	if ok && id != x.src.id {
		s.mu.Unlock()
		return false, nil
	}
	trusted := ok && x.src.chunkTrusted(int(i))
	s.mu.Unlock()
	if trusted {
		return true, nil
	}
	s.count("files_serve_rehashed")
	if sha256.Sum256(data) != x.offer.Chunks[i] {
		return false, nil
	}
	if ok {
		s.mu.Lock()
		if x.src.id == id && x.src.settled(t0, s.racy) {
			if x.src.trusted == nil {
				x.src.trusted = make([]byte, (len(x.offer.Chunks)+7)/8)
			}
			setBit(x.src.trusted, int(i))
		}
		s.mu.Unlock()
	}
	return true, nil
}

// sourceChanged stops serving a file whose chunk no longer matches the
// manifest. Our own offer ends (the user is told, a 1:1 recipient hears we
// cancelled, as after Cancel; a room's members keep fetching from each
// other); a downloaded file we served to a room is simply no longer served.
func (s *Service) sourceChanged(x *xfer, index uint32) {
	s.mu.Lock()
	if !slices.Contains(s.seeds[x.offer.Root], x) {
		s.mu.Unlock()
		return
	}
	s.cfg.Log.Warn("file changed on disk since it was offered; no longer served",
		"file", x.rec.ID, "path", x.rec.Path, "chunk", index)
	if !x.rec.Out {
		s.removeSeed(x)
		s.mu.Unlock()
		return
	}
	const reason = "the file changed on disk after it was offered"
	s.endLocked(x, StateFailed, reason)
	s.emit(Failed{ID: x.rec.ID, Reason: reason, Out: true})
	var out []outMsg
	for p := range x.sentTo { // as Cancel: everyone the offer went to
		out = append(out, outMsg{to: p, typ: TypeAnswer, body: EncodeAnswer(Answer{ID: x.offer.ID, Verdict: VerdictCancel})})
	}
	s.unlockAndSend(out)
}

// sendChunk sends one chunk frame: on the direct link's bulk lane in the clear
// (TLS protects it), sealed to the recipient when routed.
func (s *Service) sendChunk(ctx context.Context, to identity.PeerID, frame []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if s.cfg.Net.Linked(to) {
		err := s.cfg.Net.SendBulkDirect(ctx, to, TypeChunk, frame)
		if err == nil {
			return true
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			s.count("files_send_timeout")
			return false
		}
	}
	// Sealed by the courier (files_send_unreachable without a record key), sent
	// on the bulk lane here: chunks have envelopes of their own, no inner type.
	env, err := s.courier.Seal(to, frame)
	if err != nil {
		return false
	}
	if _, err := s.cfg.Net.SendBulk(ctx, to, TypeSealedChunk, env); err != nil {
		s.count("files_send_unreachable")
		return false
	}
	s.count("files_sealed_sent")
	return true
}
