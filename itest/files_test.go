package itest

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"parley/internal/netlab"
)

// makeFile writes n seeded random bytes into the test's temp dir (the hosts share
// the file system with the test) and returns its path and SHA-256.
func makeFile(t *testing.T, name string, n int, seed uint64) (string, [32]byte) {
	t.Helper()
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 7))
	for i := 0; i+8 <= len(b); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, sha256.Sum256(b)
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// offerFile sends a file and returns the offer's ID.
func (n *node) offerFile(key, value, path string) string {
	n.c.t.Helper()
	var to, room string
	switch key {
	case "to":
		to = value
	case "room":
		room = value
	default:
		n.c.t.Fatalf("offerFile by %q", key)
	}
	ids, err := n.Within(60*time.Second).SendFile(to, room, path)
	if err != nil {
		n.c.t.Fatalf("%s send_file: %v\n%s", n.name, err, n.Tail())
	}
	if len(ids) != 1 {
		n.c.t.Fatalf("send_file answered %v", ids)
	}
	return ids[0]
}

func (n *node) waitFileEvent(name, id string, timeout time.Duration) netlab.Event {
	n.c.t.Helper()
	e, err := n.WaitEventAny(timeout, func(e netlab.Event) bool { return e.Name() == name && e.Str("id") == id && e["out"] == nil })
	if err != nil {
		n.c.t.Fatalf("%s: no %s for %s: %v\n%s", n.name, name, id, err, n.Tail())
	}
	return e
}

// receive waits for the offer, accepts it and waits until the file is done.
func (n *node) receive(id string, timeout time.Duration) netlab.Event {
	n.c.t.Helper()
	n.waitFileEvent("file_offer", id, 20*time.Second)
	n.ok(n.AcceptFile(id))
	return n.waitFileEvent("file_done", id, timeout)
}

// TestFilesBigFileArrivesIdentical: 50 MB from one host to another, verified
// bit for bit, landing in the receiver's downloads folder under its name.
func TestFilesBigFileArrivesIdentical(t *testing.T) {
	c := newCluster(t)
	a := c.start(c.host("a"), "a")
	b := c.start(c.host("b"), "b")
	a.waitPeerUp(15*time.Second, b)
	b.waitPeerUp(15*time.Second, a)
	src, sum := makeFile(t, "holiday.mov", 50<<20, 1)
	id := a.offerFile("to", b.id, src)
	off := b.waitFileEvent("file_offer", id, 20*time.Second)
	if off.Str("name") != "holiday.mov" || off.Num("size") != 50<<20 || off.Str("from") != a.id {
		t.Fatalf("offer: %v", off)
	}
	// Nothing is written before accepting.
	if _, err := os.Stat(filepath.Join(c.dirs["b"], "downloads")); !os.IsNotExist(err) {
		t.Fatalf("downloads folder exists before accepting: %v", err)
	}
	start := time.Now()
	b.ok(b.AcceptFile(id))
	done := b.waitFileEvent("file_done", id, 120*time.Second)
	el := time.Since(start)
	if want := filepath.Join(c.dirs["b"], "downloads", "holiday.mov"); done.Str("path") != want {
		t.Fatalf("landed at %s, want %s", done.Str("path"), want)
	}
	if fileHash(t, done.Str("path")) != sum {
		t.Fatal("the received file differs from the original")
	}
	t.Logf("50 MB in %v (%.0f MB/s)", el.Round(time.Millisecond), 50/el.Seconds())
	if _, err := a.WaitEventAny(10*time.Second, func(e netlab.Event) bool { return e.Name() == "file_done" && e.Str("id") == id && e["out"] == true }); err != nil {
		t.Fatalf("the sender never heard the file arrived: %v", err)
	}
	if n := len(progressEvents(b, id)); n == 0 {
		t.Fatal("no file_progress events")
	}
}

func progressEvents(n *node, id string) []netlab.Event {
	var out []netlab.Event
	for _, e := range n.Events() {
		if e.Name() == "file_progress" && e.Str("id") == id {
			out = append(out, e)
		}
	}
	return out
}

// TestFilesResumeAfterKill: the receiver is killed (SIGKILL) half-way; restarted,
// it resumes the download without being asked and fetches well under the whole
// file again.
func TestFilesResumeAfterKill(t *testing.T) {
	c := newCluster(t)
	ha, hb := c.host("a"), c.host("b")
	// Slow enough that "half-way" is seconds long, whatever the CPU.
	if err := ha.Shape(c.seg, "100mbit"); err != nil {
		t.Fatal(err)
	}
	a := c.start(ha, "a")
	b := c.start(hb, "b")
	a.waitPeerUp(15*time.Second, b)
	const total = 50 << 20
	src, sum := makeFile(t, "dataset.bin", total, 2)
	id := a.offerFile("to", b.id, src)
	b.waitFileEvent("file_offer", id, 20*time.Second)
	b.ok(b.AcceptFile(id))
	// Chat on the same link stays responsive while the file fills it: chunks go
	// on the bulk lane, behind every chat frame.
	if _, err := b.WaitEventAny(30*time.Second, func(e netlab.Event) bool {
		return e.Name() == "file_progress" && e.Str("id") == id && e.Num("bytes") >= total/8
	}); err != nil {
		t.Fatalf("transfer did not start: %v", err)
	}
	t0 := time.Now()
	msg := must(a.Send(b.id, "still there?")).on(a)
	if _, err := b.WaitEventAny(5*time.Second, func(e netlab.Event) bool { return e.Name() == "message" && e.Str("id") == msg }); err != nil {
		t.Fatalf("chat message stuck behind the transfer: %v", err)
	}
	// The shaper's own queue (tbf, 400 ms) delays every packet; the lane adds little.
	if lat := time.Since(t0); lat > 1500*time.Millisecond {
		t.Fatalf("chat message took %v during the transfer", lat)
	} else {
		t.Logf("chat message during the transfer: %v", lat.Round(time.Millisecond))
	}
	if _, err := b.WaitEventAny(60*time.Second, func(e netlab.Event) bool {
		return e.Name() == "file_progress" && e.Str("id") == id && e.Num("bytes") >= total/2
	}); err != nil {
		t.Fatalf("never half-way: %v\n%s", err, b.Tail())
	}
	if err := b.Kill(); err != nil {
		t.Fatal(err)
	}
	b = c.start(hb, "b")
	done := b.waitFileEvent("file_done", id, 120*time.Second)
	if fileHash(t, done.Str("path")) != sum {
		t.Fatal("the resumed file differs from the original")
	}
	refetched := b.counters()["files_bytes_received"]
	t.Logf("after the restart b fetched %.1f MB of %d MB", refetched/(1<<20), total>>20)
	if refetched > 0.6*total {
		t.Fatalf("after the restart b fetched %.0f of %d bytes: it restarted instead of resuming", refetched, total)
	}
	// Only the finished file is left: no partial file.
	ents, _ := os.ReadDir(filepath.Join(c.dirs["b"], "downloads"))
	if len(ents) != 1 || ents[0].Name() != "dataset.bin" {
		t.Fatalf("downloads folder: %v", ents)
	}
}

// TestFilesAcrossSegments: A (segment 1) sends to C (segment 2) through B, the
// only host on both. Every frame through B is sealed; B's disk never holds the data.
func TestFilesAcrossSegments(t *testing.T) {
	c := newCluster(t)
	seg2, err := c.lab.AddSegment("lan2")
	if err != nil {
		t.Fatal(err)
	}
	a := c.start(c.host("a", c.seg), "a")
	b := c.start(c.host("b", c.seg, seg2), "b")
	cc := c.start(c.host("c", seg2), "c")
	a.waitPeerUp(15*time.Second, b, cc)
	cc.waitPeerUp(15*time.Second, a, b)
	if l := a.links(); l[cc.id] != nil {
		t.Fatal("a and c have a direct link")
	}
	src, sum := makeFile(t, "minutes.pdf", 32<<20, 3)
	id := a.offerFile("to", cc.id, src)
	start := time.Now()
	done := cc.receive(id, 90*time.Second)
	ctr := cc.counters()
	t.Logf("32 MB through the relay in %v; relay dropped %v bulk frames, c asked again for %v (seen lost) + %v (timed out)",
		time.Since(start).Round(time.Millisecond), b.counters()["route_drop_queue"], ctr["files_chunk_lost"], ctr["files_request_timeout"])
	// Losses are inferred from the order chunks arrive in; a wrong inference
	// would show as more re-asks than the relay dropped frames.
	if drops := b.counters()["route_drop_queue"]; ctr["files_chunk_lost"] > drops+4 {
		t.Fatalf("c re-asked %v chunks as lost, the relay dropped %v frames", ctr["files_chunk_lost"], drops)
	}
	if fileHash(t, done.Str("path")) != sum {
		t.Fatal("the routed file differs from the original")
	}
	if ctr := b.counters(); ctr["route_forwarded"] < 128 { // 32 MB is 128 chunks
		t.Fatalf("b forwarded %v frames", ctr["route_forwarded"])
	}
	if ctr := a.counters(); ctr["files_sealed_sent"] < 128 {
		t.Fatalf("a sealed %v frames, want every chunk sealed", ctr["files_sealed_sent"])
	}
	head := make([]byte, 4096)
	f, _ := os.Open(src)
	f.Read(head)
	f.Close()
	filepath.Walk(c.dirs["b"], func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			if data, _ := os.ReadFile(p); bytes.Contains(data, head[:64]) {
				t.Errorf("the relay's %s holds file data", p)
			}
		}
		return nil
	})
}

// TestFilesDeclineWritesNothing: a declined offer leaves the receiver's disk
// without any trace of the file, and the sender is told.
func TestFilesDeclineWritesNothing(t *testing.T) {
	c := newCluster(t)
	a := c.start(c.host("a"), "a")
	b := c.start(c.host("b"), "b")
	a.waitPeerUp(15*time.Second, b)
	src, _ := makeFile(t, "unwanted.zip", 4<<20, 4)
	id := a.offerFile("to", b.id, src)
	b.waitFileEvent("file_offer", id, 20*time.Second)
	b.ok(b.DeclineFile(id))
	if _, err := a.WaitEventAny(10*time.Second, func(e netlab.Event) bool {
		return e.Name() == "file_failed" && e.Str("id") == id && e.Str("reason") == "declined"
	}); err != nil {
		t.Fatalf("the sender was not told: %v", err)
	}
	time.Sleep(time.Second) // a stray chunk would take far less than this to land
	if _, err := os.Stat(filepath.Join(c.dirs["b"], "downloads")); !os.IsNotExist(err) {
		t.Fatalf("downloads folder exists after declining: %v", err)
	}
	if n := b.counters()["files_bytes_received"]; n != 0 {
		t.Fatalf("b received %v bytes of a declined file", n)
	}
}

// TestFilesRoomMultiSource: a room of four; the file's author and two members
// that fetched it hold it; the author's link is shaped. The newcomer draws most
// bytes from the two unshaped holders.
func TestFilesRoomMultiSource(t *testing.T) {
	c := newCluster(t)
	var nodes []*node
	for _, name := range []string{"a", "b", "c", "d"} {
		nodes = append(nodes, c.start(c.host(name), name))
	}
	a, b, cc, d := nodes[0], nodes[1], nodes[2], nodes[3]
	a.waitPeerUp(15*time.Second, b, cc, d)
	room := must(a.Join("crew")).on(a).ID
	for _, n := range []*node{b, cc} {
		eventually(t, 10*time.Second, n.name+" sees the room", func() bool { return n.room(room) != nil })
		must(n.Join(room)).on(n)
	}
	eventually(t, 10*time.Second, "a sees b and c in the room", func() bool {
		r := a.room(room)
		return r != nil && len(r.Members) == 3
	})
	const total = 24 << 20
	src, sum := makeFile(t, "talk.mp4", total, 5)
	id := a.offerFile("room", room, src)
	for _, n := range []*node{b, cc} {
		if fileHash(t, n.receive(id, 60*time.Second).Str("path")) != sum {
			t.Fatalf("%s's copy differs", n.name)
		}
	}
	if err := a.host.Shape(c.seg, "24mbit"); err != nil {
		t.Fatal(err)
	}
	before := map[*node]float64{}
	for _, n := range []*node{a, b, cc} {
		before[n] = n.counters()["files_bytes_sent"]
	}
	must(d.Join(room)).on(d)
	done := d.receive(id, 90*time.Second)
	if fileHash(t, done.Str("path")) != sum {
		t.Fatal("the newcomer's copy differs")
	}
	served := map[string]float64{}
	for _, n := range []*node{a, b, cc} {
		served[n.name] = n.counters()["files_bytes_sent"] - before[n]
	}
	t.Logf("bytes served to d: a (shaped) %.1f MB, b %.1f MB, c %.1f MB", served["a"]/(1<<20), served["b"]/(1<<20), served["c"]/(1<<20))
	if served["b"] == 0 || served["c"] == 0 {
		t.Fatalf("not every unshaped holder served: %v", served)
	}
	if served["b"]+served["c"] < 0.75*total {
		t.Fatalf("the unshaped holders served only %.0f of %d bytes", served["b"]+served["c"], total)
	}
	// Duplicate requests (endgame) stay a small share.
	if sum := served["a"] + served["b"] + served["c"]; sum > 1.3*total {
		t.Fatalf("holders served %.0f bytes for a %d-byte file", sum, total)
	}
}

// TestFilesAutoAcceptFromVerifiedPeers: with auto-accept on, an offer from a
// peer the user verified is fetched without asking; one from an unverified peer
// still waits for the user, and nothing of it is written.
func TestFilesAutoAcceptFromVerifiedPeers(t *testing.T) {
	c := newCluster(t)
	a := c.start(c.host("a"), "a")
	b := c.start(c.host("b"), "b")
	d := c.start(c.host("d"), "d")
	for _, n := range []*node{a, d} {
		n.waitPeerUp(15*time.Second, b)
		b.waitPeerUp(15*time.Second, n)
	}
	if on := must(b.AutoAccept()).on(b); on {
		t.Fatalf("auto-accept is on by default: %v", on)
	}
	if on := must(b.SetAutoAccept(true)).on(b); !on {
		t.Fatalf("auto_accept on answered %v", on)
	}
	must(b.Verify(a.id, true)).on(b)

	src, sum := makeFile(t, "minutes.pdf", 3<<20, 7)
	id := a.offerFile("to", b.id, src)
	if off := b.waitFileEvent("file_offer", id, 20*time.Second); off["auto"] != true {
		t.Fatalf("offer from a verified peer: %v", off)
	}
	done := b.waitFileEvent("file_done", id, 60*time.Second)
	if fileHash(t, done.Str("path")) != sum {
		t.Fatal("the auto-accepted file differs from the original")
	}

	other, _ := makeFile(t, "unknown.bin", 1<<20, 8)
	id2 := d.offerFile("to", b.id, other)
	if off := b.waitFileEvent("file_offer", id2, 20*time.Second); off["auto"] != nil {
		t.Fatalf("offer from an unverified peer was accepted by itself: %v", off)
	}
	time.Sleep(time.Second) // a stray chunk would take far less than this to land
	if _, err := os.Stat(filepath.Join(c.dirs["b"], "downloads", "unknown.bin")); !os.IsNotExist(err) {
		t.Fatalf("the unverified peer's file was written: %v", err)
	}
	for _, tr := range must(b.Transfers()).on(b) {
		if tr.ID == id2 && tr.State != "offered" {
			t.Fatalf("the unverified peer's transfer is %v, want offered", tr.State)
		}
	}
}
