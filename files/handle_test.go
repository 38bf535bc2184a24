package files

import (
	"testing"
)

// handleSeeds are frames of every type, valid and not, for the handler fuzzer.
func handleSeeds(t testing.TB) [][]byte {
	_, raw, _ := testOffer(t, 2*DefaultChunk, "")
	var seeds [][]byte
	for _, tc := range offerCases(t) {
		seeds = append(seeds, append([]byte{TypeOffer}, tc.b...))
	}
	seeds = append(seeds, append([]byte{TypeOffer}, raw...))
	for _, b := range requestCases() {
		seeds = append(seeds, append([]byte{TypeReq}, b...))
	}
	for _, b := range chunkCases() {
		seeds = append(seeds, append([]byte{TypeChunk}, b...))
	}
	for _, b := range answerCases() {
		seeds = append(seeds, append([]byte{TypeAnswer}, b...), append([]byte{TypeQuery}, b...), append([]byte{TypeHave}, b...))
	}
	return append(seeds, []byte{TypeSealed, 1, 2, 3}, []byte{TypeSealedChunk}, []byte{99})
}

// TestMalformedFramesAreCountedNotFatal feeds broken frames of every type.
func TestMalformedFramesAreCountedNotFatal(t *testing.T) {
	h := newHarness(t)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	for _, s := range handleSeeds(t) {
		b.svc.handle(a.id.ID, s[0], s[1:])
	}
	if b.stats.Get("files_drop_malformed") < 10 {
		t.Fatalf("malformed frames counted: %v", b.stats.Snapshot())
	}
	// The one well-formed offer is not a's (wrong author): dropped too.
	if len(b.all()) != 0 {
		t.Fatalf("events from garbage: %v", b.all())
	}
	if names := dirNames(t, b.dl); len(names) != 0 {
		t.Fatalf("garbage wrote %v", names)
	}
}

// FuzzHandle: any frame of any type from a linked peer leaves the service
// running and writes nothing.
func FuzzHandle(f *testing.F) {
	for _, s := range handleSeeds(f) {
		f.Add(s)
	}
	// One pair of services for every input: state piles up as it would on a
	// long-running node facing a hostile peer.
	h := newHarness(f)
	a, b := h.add("a"), h.add("b")
	h.mesh()
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) == 0 {
			return
		}
		b.svc.handle(a.id.ID, frame[0], frame[1:])
		b.svc.Tick()
		if names := dirNames(t, b.dl); len(names) != 0 {
			t.Fatalf("a frame wrote %v", names)
		}
	})
}
