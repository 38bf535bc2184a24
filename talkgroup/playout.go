package talkgroup

import (
	"time"

	"parley/media/audio"
	"parley/media/opus"
	"parley/media/voice"
)

// drainAfter is how long a stream keeps playing after its last frame
// arrived: long enough for the jitter buffer (at most 200 ms) to empty.
const drainAfter = 500 * time.Millisecond

// stream is the transmission being played: one at a time per node (a second
// room's transmission meanwhile is forwarded and kept for replay, not
// played: ptt_not_played).
type stream struct {
	room  string
	claim Claim
	recv  *voice.Receiver
	last  time.Time
}

// pushLocked hands a frame to the live stream, starting one for a new
// transmission when nothing else is playing.
func (s *Service) pushLocked(roomID string, c Claim, seq uint32, payload []byte, now time.Time) {
	// A new transmission in the playing room replaces the old one at once:
	// the floor took it, so the old one is over (waiting for its drain
	// would clip the next speaker's first half second).
	if s.live == nil || s.live.claim != c && (s.live.room == roomID || now.Sub(s.live.last) > drainAfter) {
		recv, err := voice.NewReceiver(s.out, voice.ReceiverConfig{})
		if err != nil {
			s.count("ptt_not_played")
			return
		}
		s.live = &stream{room: roomID, claim: c, recv: recv}
		s.replay = nil // live speech stops a replay
	}
	if s.live.claim != c {
		s.count("ptt_not_played")
		return
	}
	s.live.last = now
	s.live.recv.Push(uint16(seq), seq*audio.FrameSamples, payload, now)
}

// play writes one frame: the live transmission's, else the next frame of a
// replay. Run calls it every 20 ms.
func (s *Service) play(now time.Time) {
	s.mu.Lock()
	live := s.live
	if live != nil && now.Sub(live.last) > drainAfter {
		s.live, live = nil, nil
	}
	var next []byte
	if live == nil && len(s.replay) > 0 {
		next, s.replay = s.replay[0], s.replay[1:]
	}
	s.mu.Unlock()
	switch {
	case live != nil:
		if err := live.recv.PlayFrame(now); err != nil {
			s.count("ptt_sink_failed")
		}
	case next != nil:
		s.out.playOpus(next)
	}
}

// lazySink opens the node's sink at the first frame to play and keeps it
// until Run ends: a WAV sink then holds every transmission heard, one after
// another. Only the playout goroutine writes.
type lazySink struct {
	open   func() (audio.Sink, error)
	count  func(string)
	sink   audio.Sink
	failed bool
	dec    *opus.Decoder
	pcm    []int16
}

func (l *lazySink) WriteFrame(pcm []int16) error {
	if l.sink == nil && !l.failed {
		if l.open == nil {
			l.failed = true
		} else if sk, err := l.open(); err != nil {
			l.failed = true
			l.count("ptt_sink_failed")
		} else {
			l.sink = sk
		}
	}
	if l.sink == nil {
		return nil
	}
	return l.sink.WriteFrame(pcm)
}

func (l *lazySink) Close() error { return nil } // the Receiver does not own it

// playOpus decodes one replayed frame and plays it.
func (l *lazySink) playOpus(p []byte) {
	if l.dec == nil {
		d, err := opus.NewDecoder()
		if err != nil {
			return
		}
		l.dec, l.pcm = d, make([]int16, audio.FrameSamples)
	}
	if _, err := l.dec.Decode(p, l.pcm); err != nil {
		l.count("ptt_replay_decode_failed")
		return
	}
	l.WriteFrame(l.pcm)
}

func (l *lazySink) close() {
	if l.sink != nil {
		l.sink.Close()
		l.sink = nil
	}
}
