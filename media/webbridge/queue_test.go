package webbridge

import (
	"testing"

	"parley/media/audio"
)

// numbered is a frame whose every sample is v, so tests can tell frames apart.
func numbered(v int16, samples int) []int16 {
	f := make([]int16, samples)
	for i := range f {
		f[i] = v
	}
	return f
}

func popValue(t *testing.T, q *frameQueue) int16 {
	t.Helper()
	dst := numbered(-1, audio.FrameSamples)
	audible := q.pop(dst)
	if dst[0] != dst[len(dst)-1] {
		t.Fatalf("a frame mixing %d and %d", dst[0], dst[len(dst)-1])
	}
	if audible != (dst[0] != 0) {
		t.Fatalf("pop said audible=%v for a frame of %d", audible, dst[0])
	}
	return dst[0]
}

func TestQueueSilenceWhenEmpty(t *testing.T) {
	q := newFrameQueue(4, 2)
	if v := popValue(t, q); v != 0 {
		t.Fatalf("empty queue gave %d", v)
	}
	q.push(numbered(7, audio.FrameSamples))
	if v := popValue(t, q); v != 7 {
		t.Fatalf("got %d, want 7", v)
	}
	if v := popValue(t, q); v != 0 || q.silent != 2 || q.frames != 1 {
		t.Fatalf("got %d, silent %d, frames %d", v, q.silent, q.frames)
	}
}

// 10 ms and 60 ms packets come out as 20 ms frames, in order.
func TestQueueReframesOddPacketSizes(t *testing.T) {
	q := newFrameQueue(8, 8)
	half := audio.FrameSamples / 2
	q.push(numbered(1, half))
	if q.n != 0 {
		t.Fatal("half a frame was queued as a frame")
	}
	q.push(numbered(1, half))
	q.push(numbered(2, 3*audio.FrameSamples))
	for i, want := range []int16{1, 2, 2, 2, 0} {
		if v := popValue(t, q); v != want {
			t.Fatalf("frame %d: %d, want %d", i, v, want)
		}
	}
}

// A full ring drops its oldest frame, counted.
func TestQueueDropsOldestWhenFull(t *testing.T) {
	q := newFrameQueue(3, 3)
	for v := int16(1); v <= 5; v++ {
		q.push(numbered(v, audio.FrameSamples))
		if v == 2 {
			popValue(t, q) // a reader, so the idle flush does not apply
			q.push(numbered(v, audio.FrameSamples))
		}
	}
	// 1 was read; 2, the second 2 and 3, 4, 5 went in: two were one too many.
	if q.dropped != 2 {
		t.Fatalf("dropped %d, want 2", q.dropped)
	}
	for i, want := range []int16{3, 4, 5} {
		if v := popValue(t, q); v != want {
			t.Fatalf("frame %d: %d, want %d", i, v, want)
		}
	}
}

// A queue that stays deeper than keep (counted at a read, the frame being read
// included) for a whole window is trimmed to keep; one at keep is left alone.
func TestQueueTrimsStandingDelay(t *testing.T) {
	q := newFrameQueue(10, 2)
	for range 5 {
		q.push(numbered(1, audio.FrameSamples))
	}
	popValue(t, q) // 5 deep at this read, 4 left
	for i := range trimWindow - 1 {
		q.push(numbered(1, audio.FrameSamples))
		popValue(t, q)
		if q.trimmed != 0 && i < trimWindow-2 {
			t.Fatalf("trimmed after %d reads", i+2)
		}
	}
	if q.trimmed != 3 || q.n != 1 {
		t.Fatalf("after a second 5 deep: trimmed %d, left %d; want 3 and 1", q.trimmed, q.n)
	}
	for range 2 * trimWindow {
		q.push(numbered(1, audio.FrameSamples))
		popValue(t, q)
	}
	if q.trimmed != 3 {
		t.Fatalf("trimmed %d at the kept depth", q.trimmed-3)
	}
}

// Audio nobody read (no call) is not played late when a call starts.
func TestQueueFlushesAfterIdle(t *testing.T) {
	q := newFrameQueue(4, 2)
	for v := int16(1); v <= 20; v++ {
		q.push(numbered(v, audio.FrameSamples))
	}
	for i, want := range []int16{19, 20, 0} {
		if v := popValue(t, q); v != want {
			t.Fatalf("frame %d after idle: %d, want %d", i, v, want)
		}
	}
}
