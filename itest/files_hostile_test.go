package itest

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/files"
	"parley/internal/netlab"
)

// hostileEnv arms the hostile build (files/hostile_serve.go): every Nth chunk it
// serves is corrupted. Ordinary and race builds have no code that reads it.
const hostileEnv = "PARLEY_HOSTILE_CORRUPT_CHUNKS"

// startHostile runs the test-only parley build that corrupts every chunk it
// serves (netlab.BuildHostileBinary). The variable is set for the whole test,
// so the honest nodes run with it too: that they still serve good data is part
// of what the tests show.
func (c *cluster) startHostile(h *netlab.Host, name string) *node {
	c.t.Helper()
	bin, err := netlab.BuildHostileBinary()
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Setenv(hostileEnv, "1")
	honest := c.bin
	c.bin = bin
	defer func() { c.bin = honest }()
	return c.start(h, name)
}

// downloadsLeft lists what is in a node's downloads folder (partial files too).
func downloadsLeft(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "downloads"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestFilesMaliciousSourceRefetched: a room of three. The author a is honest;
// e (the hostile build) fetched the file honestly and then serves it corrupted;
// d, fetching from both, detects every bad chunk, drops e from the download
// after its first and gets those chunks from a: the file lands bit-identical.
func TestFilesMaliciousSourceRefetched(t *testing.T) {
	c := newCluster(t)
	a := c.start(c.host("a"), "a")
	e := c.startHostile(c.host("e"), "e")
	d := c.start(c.host("d"), "d")
	a.waitPeerUp(15*time.Second, e, d)
	d.waitPeerUp(15*time.Second, a, e)
	room := joinRoom(t, "crew", a, e, d)

	const total = 16 << 20
	src, sum := makeFile(t, "report.pdf", total, 11)
	id := a.offerFile("room", room, src)
	// e's own download is checked like any other: a, which runs with the
	// variable set too, serves good data.
	if fileHash(t, e.receive(id, 60*time.Second).Str("path")) != sum {
		t.Fatal("e's copy differs")
	}
	d.waitFileEvent("file_offer", id, 20*time.Second)
	sentA, sentE := a.counters()["files_bytes_sent"], e.counters()["files_bytes_sent"]
	d.ok(d.AcceptFile(id))
	done := d.waitFileEvent("file_done", id, 90*time.Second)
	if fileHash(t, done.Str("path")) != sum {
		t.Fatal("d's copy differs from the original")
	}

	ctrA, ctrE, ctrD := a.counters(), e.counters(), d.counters()
	fromA, fromE := ctrA["files_bytes_sent"]-sentA, ctrE["files_bytes_sent"]-sentE
	t.Logf("d: %v bad chunks (%.2f MB) detected, %v source dropped; served to d: a %.2f MB, e %.2f MB (e corrupted %v chunks)",
		ctrD["files_chunk_bad"], ctrD["files_bytes_bad"]/(1<<20), ctrD["files_source_dropped_bad"],
		fromA/(1<<20), fromE/(1<<20), ctrE["files_hostile_corrupted"])
	if ctrE["files_hostile_corrupted"] == 0 || fromE == 0 {
		t.Fatalf("the hostile source served nothing (corrupted %v, sent %v bytes): the test tested nothing",
			ctrE["files_hostile_corrupted"], fromE)
	}
	if ctrA["files_hostile_corrupted"] != 0 || ctrD["files_hostile_corrupted"] != 0 {
		t.Fatal("an honest (race) build corrupted chunks")
	}
	if ctrD["files_chunk_bad"] == 0 || ctrD["files_bytes_bad"] == 0 {
		t.Fatalf("d detected no bad chunk: %v bad, %v bytes", ctrD["files_chunk_bad"], ctrD["files_bytes_bad"])
	}
	// Every bad chunk d saw came from e (a bad chunk arriving after the file was
	// complete is counted as unwanted instead).
	if ctrD["files_bytes_bad"] > fromE {
		t.Fatalf("d rejected %v bytes, e sent only %v", ctrD["files_bytes_bad"], fromE)
	}
	if ctrD["files_source_dropped_bad"] != 1 {
		t.Fatalf("files_source_dropped_bad = %v, want 1 (e, once)", ctrD["files_source_dropped_bad"])
	}
	// Only verified bytes count as received, and only a serves verified bytes:
	// what e sent was fetched again from a.
	if ctrD["files_bytes_received"] != total {
		t.Fatalf("d received %v good bytes of a %d-byte file", ctrD["files_bytes_received"], total)
	}
	if fromA < total {
		t.Fatalf("a served %v bytes; every one of the %d must have come from it", fromA, total)
	}
	// Dropped at its first bad chunk, e is asked for at most its first window
	// (4 chunks of 256 KiB when ranked first); twice that is the bound here.
	if fromE > 2<<20 {
		t.Fatalf("e served %.2f MB: it went on being asked after serving bad data", fromE/(1<<20))
	}
	if left := downloadsLeft(t, c.dirs["d"]); len(left) != 1 || left[0] != "report.pdf" {
		t.Fatalf("d's downloads folder: %v", left)
	}
}

// TestFilesMaliciousOnlySource: the hostile build is the only holder. A 1:1
// offer from it fails at its first bad chunk; a room offer fails once no other
// member comes forward with the file (files.noSourceGrace, 10 s). Either way
// d gets a file_failed with the reason, never a file_done, and nothing of the
// file stays in its downloads folder.
func TestFilesMaliciousOnlySource(t *testing.T) {
	c := newCluster(t)
	e := c.startHostile(c.host("e"), "e")
	d := c.start(c.host("d"), "d")
	e.waitPeerUp(15*time.Second, d)
	d.waitPeerUp(15*time.Second, e)
	room := joinRoom(t, "trap", e, d)

	failWithin := func(id, want string, timeout time.Duration) time.Duration {
		t.Helper()
		d.waitFileEvent("file_offer", id, 20*time.Second)
		start := time.Now()
		d.ok(d.AcceptFile(id))
		ev, err := d.WaitEventAny(timeout, func(ev netlab.Event) bool {
			return (ev.Name() == "file_failed" || ev.Name() == "file_done") && ev.Str("id") == id && ev["out"] == nil
		})
		if err != nil {
			t.Fatalf("the download from the only (hostile) source neither failed nor finished: %v\n%s", err, d.Tail())
		}
		if ev.Name() != "file_failed" {
			t.Fatalf("a corrupted file was reported done: %v", ev)
		}
		if ev.Str("reason") != want {
			t.Fatalf("reason %q, want %q", ev.Str("reason"), want)
		}
		return time.Since(start)
	}

	src1, _ := makeFile(t, "direct.bin", 4<<20, 12)
	direct := failWithin(e.offerFile("to", d.id, src1), files.ReasonSenderCorrupt, 30*time.Second)
	src2, _ := makeFile(t, "shared.bin", 4<<20, 13)
	roomID := e.offerFile("room", room, src2)
	inRoom := failWithin(roomID, files.ReasonNoGoodSource, 60*time.Second)
	ctr := d.counters()
	t.Logf("1:1 offer failed after %v, room offer after %v; d detected %v bad chunks, dropped %v sources",
		direct.Round(time.Millisecond), inRoom.Round(time.Millisecond), ctr["files_chunk_bad"], ctr["files_source_dropped_bad"])
	if ctr["files_source_dropped_bad"] != 2 {
		t.Fatalf("files_source_dropped_bad = %v, want 2 (e, once per download)", ctr["files_source_dropped_bad"])
	}
	if ctr["files_bytes_received"] != 0 {
		t.Fatalf("d counted %v good bytes from a source that corrupts every chunk", ctr["files_bytes_received"])
	}
	if inRoom < 9*time.Second {
		t.Fatalf("the room download failed after %v; other members get 10 s to come forward", inRoom)
	}
	// The failed transfers' partial files are gone, and no final file was made.
	time.Sleep(500 * time.Millisecond) // chunks still on the way land on a closed download
	if left := downloadsLeft(t, c.dirs["d"]); len(left) != 0 {
		t.Fatalf("d's downloads folder after two failed downloads: %v", left)
	}
	for _, tr := range must(d.Transfers()).on(d) {
		if tr.State != "failed" {
			t.Fatalf("transfer %v is %v, want failed", tr.ID, tr.State)
		}
	}
}

// TestFilesHostileCodeOnlyInHostileBuild: the code that corrupts served chunks
// is in the parleyhostile build and in no binary a user runs: neither its
// variable's name nor its state is in the ordinary or the race build.
func TestFilesHostileCodeOnlyInHostileBuild(t *testing.T) {
	const symbol = "parley/files.hostileServed"
	check := func(what string, build func() (string, error), want bool) {
		t.Helper()
		bin, err := build()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		defer f.Close()
		syms, err := f.Symbols()
		if err != nil {
			t.Fatalf("%s symbols: %v", bin, err)
		}
		hasSym := false
		for _, s := range syms {
			hasSym = hasSym || strings.HasPrefix(s.Name, symbol)
		}
		if hasEnv := bytes.Contains(b, []byte(hostileEnv)); hasEnv != want || hasSym != want {
			t.Fatalf("%s build %s: names %s %v, has %s %v; want %v", what, bin, hostileEnv, hasEnv, symbol, hasSym, want)
		}
	}
	check("ordinary", netlab.BuildPlainBinary, false)
	check("race", netlab.BuildBinary, false)
	check("hostile", netlab.BuildHostileBinary, true)
}
