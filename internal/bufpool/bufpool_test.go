package bufpool

import "testing"

func TestClasses(t *testing.T) {
	for _, tc := range []struct{ n, cap int }{
		{Min, 64<<10 + Slack},
		{64<<10 + Slack, 64<<10 + Slack},
		{64<<10 + Slack + 1, 128<<10 + Slack},
		{256<<10 + 36 + 6, 256<<10 + Slack}, // a 256 KiB chunk frame
		{256<<10 + Slack, 256<<10 + Slack},
		{256<<10 + Slack + 1, 512<<10 + Slack},
		{1<<20 + 6, 1<<20 + Slack}, // the largest overlay frame
	} {
		b := Get(tc.n)
		if len(b) != tc.n || cap(b) != tc.cap {
			t.Errorf("Get(%d): len %d cap %d, want cap %d", tc.n, len(b), cap(b), tc.cap)
		}
	}
	for _, n := range []int{0, 100, Min - 1, 1<<20 + Slack + 1} {
		if b := Get(n); len(b) != n || cap(b) != n {
			t.Errorf("Get(%d) outside the classes: len %d cap %d", n, len(b), cap(b))
		}
	}
}

func TestPutOnlyTakesClassBuffers(t *testing.T) {
	// Foreign buffers and slices into pooled ones are dropped, not pooled:
	// whatever Get returns has a class capacity.
	Put(make([]byte, 300<<10))
	b := Get(200 << 10)
	Put(b[10:])
	for i := 0; i < 100; i++ {
		if c := Get(200 << 10); cap(c) != 256<<10+Slack {
			t.Fatalf("Get returned a buffer of cap %d", cap(c))
		}
	}
}

func TestReuse(t *testing.T) {
	// sync.Pool may drop anything at any time, so reuse is not guaranteed; a
	// Put followed by a Get on one goroutine without a GC in between usually
	// gets it back. Only check that what comes back is sound.
	b := Get(256<<10 + 42)
	b[0] = 7
	Put(b)
	c := Get(200 << 10)
	if len(c) != 200<<10 || cap(c) != 256<<10+Slack {
		t.Fatalf("len %d cap %d", len(c), cap(c))
	}
}

func BenchmarkGetPut(b *testing.B) {
	for b.Loop() {
		Put(Get(256<<10 + 42))
	}
}
