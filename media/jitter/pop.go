package jitter

import "time"

// Pop returns what to play for the next frame period. now is the playout time on the
// same clock as the packets' Arrival; Pop must be called once per frame duration
// (20 ms), as the decision it makes is "the next 20 ms".
func (b *Buffer) Pop(now time.Time) Frame {
	if !b.stream {
		return b.silence()
	}
	nowNs := clampDur(now.Sub(b.epoch))
	b.t.decay(nowNs)
	// The timestamp due now: its packet would have arrived by the fastest path at
	// now − target.
	due := b.tsOrigin + b.nsToTS(nowNs-b.t.dmin-b.t.target)
	if !b.started {
		if len(b.pkts) == 0 || b.pkts[0].ts > due {
			return b.silence()
		}
		b.started = true
		b.playTS, b.nextSeq = b.pkts[0].ts, b.pkts[0].seq
		b.emptyRun, b.sinceSkip = 0, 0
	}
	b.sinceSkip++
	half := b.frame / 2
	limit := b.nsToTS(int64(b.cfg.MaxDelay)) + b.frame
	switch ahead := b.playTS - due; {
	case ahead < -limit:
		// Hopelessly behind (playout stalled, or the path got much faster): jump to
		// the frame that is due, on the packets' timestamp grid.
		origin := b.playTS
		if len(b.pkts) > 0 {
			origin = b.pkts[0].ts
		}
		b.playTS = origin + floorDiv(due-origin, b.frame)*b.frame
		b.st.Resyncs++
	case ahead > limit:
		// Hopelessly early: start again once something is due.
		b.started = false
		b.st.Resyncs++
		return b.silence()
	case ahead > half:
		// Playing too early for the target: hold back one frame.
		b.st.Stretched++
		if b.speech {
			return b.conceal()
		}
		return b.silence()
	case ahead <= -(b.frame + half):
		// Playing too late: drop one frame, at once if it holds no audio anyway.
		if !b.slotHasPacket() || b.sinceSkip >= skipEvery {
			b.skip()
		}
	}
	return b.next()
}

func (b *Buffer) slotHasPacket() bool {
	return len(b.pkts) > 0 && b.pkts[0].ts < b.playTS+b.frame/2
}

// skip gives up the frame at playTS to reduce the delay.
func (b *Buffer) skip() {
	b.st.Skipped++
	b.sinceSkip = 0
	if b.slotHasPacket() {
		b.st.Dropped++
		b.consume(b.popFront().seq)
	}
	b.playTS += b.frame
}

// consume moves nextSeq past seq; sequence numbers jumped over were never received
// in time and count as lost.
func (b *Buffer) consume(seq int64) {
	if seq > b.nextSeq {
		b.st.Lost += uint64(seq - b.nextSeq)
	}
	b.nextSeq = max(b.nextSeq, seq+1)
}

// next decides the frame at playTS and moves past it.
func (b *Buffer) next() Frame {
	half := b.frame / 2
	for len(b.pkts) > 0 && b.pkts[0].ts < b.playTS-half {
		b.st.Dropped++
		b.consume(b.popFront().seq)
	}
	if b.slotHasPacket() {
		e := b.popFront()
		b.consume(e.seq)
		// Re-anchor on the packet, so a sender whose timestamps are off the grid
		// does not drift out of their slots.
		b.playTS = e.ts + b.frame
		b.emptyRun = 0
		b.speech = true
		b.st.Played++
		return Frame{Kind: Normal, Payload: e.payload}
	}
	b.playTS += b.frame
	if len(b.pkts) == 0 {
		// Lost, late, end of a talk spurt, or the call went quiet: the buffer cannot
		// tell yet, so nextSeq stays put and the next packet settles it.
		b.emptyRun++
		if b.speech && b.emptyRun <= concealRun {
			return b.conceal()
		}
		return b.silence()
	}
	b.emptyRun = 0
	q := b.pkts[0]
	missing := q.seq - b.nextSeq
	slots := (q.ts - (b.playTS - b.frame) + half) / b.frame // frames until q, ≥ 1
	if missing > slots {
		// More missing than frames left before q: the extra ones belonged to frames
		// already concealed while the buffer was empty.
		b.st.Lost += uint64(missing - slots)
		b.nextSeq = q.seq - slots
		missing = slots
	}
	switch {
	case missing < slots:
		// Fewer packets missing than frames before q: this frame is part of a DTX
		// gap (the missing ones, if any, are taken to be those just before q).
		return b.silence()
	case missing == 1 && slots == 1:
		b.nextSeq++
		b.st.Lost++
		b.st.FECRecovered++
		b.speech = true
		return Frame{Kind: FEC, Payload: q.payload}
	default:
		b.nextSeq++
		b.st.Lost++
		return b.conceal()
	}
}

func (b *Buffer) silence() Frame {
	b.speech = false
	b.st.Silence++
	return Frame{Kind: Silence}
}

func (b *Buffer) conceal() Frame {
	b.st.Concealed++
	return Frame{Kind: Conceal}
}
