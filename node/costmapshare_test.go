package node

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/identity"
	"parley/selection"
)

// costMapTestNode starts a node listening on listen; it stops when the test ends.
func costMapTestNode(t *testing.T, dir, listen, costMap, signer string) *Node {
	t.Helper()
	return startTestNode(t, filepath.Base(dir), Config{DataDir: dir, Listen: listen, CostMap: costMap, CostMapSigner: signer})
}

func termOf(t *testing.T, rc RelayChoice, id identity.PeerID, term string) (float64, int) {
	t.Helper()
	for i, r := range rc.Ranking {
		if r.ID == id.String() {
			return r.Terms[term], i
		}
	}
	t.Fatalf("%s not ranked: %+v", id.Short(), rc.Ranking)
	return 0, 0
}

// TestSignedCostMapReachesTrustingPeer: b trusts s to sign the cost map. A map
// another member signs for itself, and one naming s's key with a signature that
// does not verify, are dropped and counted and change nothing; s's own map then
// reaches b through the overlay and reprices the relay it costs (r, on another
// loopback address), which drops to last place.
func TestSignedCostMapReachesTrustingPeer(t *testing.T) {
	root := t.TempDir()
	sDir := filepath.Join(root, "s")
	sid, err := identity.LoadOrCreate(sDir) // its ID is known before it starts
	if err != nil {
		t.Fatal(err)
	}
	mapFile := filepath.Join(root, "costs.txt")
	if err := os.WriteFile(mapFile, []byte("127.0.0.2/32 127.0.0.0/8 500\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	b := costMapTestNode(t, filepath.Join(root, "b"), "127.0.0.1:0", "", sid.ID.String())
	c := costMapTestNode(t, filepath.Join(root, "c"), "127.0.0.1:0", "", "")
	r := costMapTestNode(t, filepath.Join(root, "r"), "127.0.0.2:0", "", "")
	fDir := filepath.Join(root, "f")
	fid, err := identity.LoadOrCreate(fDir)
	if err != nil {
		t.Fatal(err)
	}
	// f signs the same map as its own signer: a valid map from an untrusted key.
	f := costMapTestNode(t, fDir, "127.0.0.1:0", mapFile, fid.ID.String())
	if f.costMapExtensions() == nil {
		t.Fatal("a signer with a map publishes nothing")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range []*Node{c, r, f} {
		if err := b.ov.Dial(ctx, p.ID(), p.linkAddrs()); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "f's map refused at b", func() bool { return b.stats.Get("costmap_untrusted") > 0 })

	// f now names s's key with a newer time; its own signature cannot verify.
	forged, err := selection.EncodeSignedCostMap(f.costMap, uint64(time.Now().UnixMilli())+1e6, fid)
	if err != nil {
		t.Fatal(err)
	}
	copy(forged[1:33], sid.Public)
	f.sharedMap.mu.Lock()
	f.sharedMap.own = forged
	f.sharedMap.mu.Unlock()
	if err := f.republishExtensions(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the forged map refused at b", func() bool { return b.stats.Get("costmap_bad_signature") > 0 })
	eventually(t, "r ranked at b", func() bool {
		rc, err := b.Relays("chat", []string{c.ID().String()})
		return err == nil && len(rc.Ranking) >= 2
	})
	before, err := b.Relays("chat", []string{c.ID().String()})
	if err != nil {
		t.Fatal(err)
	}
	if cm, _ := termOf(t, before, r.ID(), "costmap"); cm != 0 || b.costMapNow() != nil || b.stats.Get("costmap_adopted") != 0 {
		t.Fatalf("before the signer: r's costmap term %v, map %v, adopted %d", cm, b.costMapNow(), b.stats.Get("costmap_adopted"))
	}

	s := costMapTestNode(t, sDir, "127.0.0.1:0", mapFile, sid.ID.String())
	if err := s.ov.Dial(ctx, b.ID(), b.linkAddrs()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "s's map adopted at b", func() bool { return b.stats.Get("costmap_adopted") == 1 })
	var after RelayChoice
	eventually(t, "s ranked at b", func() bool {
		after, err = b.Relays("chat", []string{c.ID().String()})
		return err == nil && len(after.Ranking) == len(before.Ranking)+1
	})
	cm, at := termOf(t, after, r.ID(), "costmap")
	if cm != 1000 || at != len(after.Ranking)-1 {
		t.Fatalf("after s's map: r's costmap term %v at place %d of %d, want 1000 (two legs at 500) and last", cm, at, len(after.Ranking))
	}
	if got := b.costMapNow().String(); got != "127.0.0.2/32 127.0.0.0/8 500\n" {
		t.Fatalf("b uses %q", got)
	}
	// The trust outlives the flag: a later start without it keeps it.
	if v, ok, _ := b.db.Setting(settingCostMapSigner); !ok || v != sid.ID.String() {
		t.Fatalf("setting %q %v", v, ok)
	}
}

// TestCostMapSignerSetting: --cost-map-signer is kept in the settings, a later
// start without it trusts the same signer, "none" forgets it, and a value that is
// not a peer ID is refused at start.
func TestCostMapSignerSetting(t *testing.T) {
	dir := t.TempDir()
	start := func(signer string) (*Node, error) {
		return New(Config{DataDir: dir, Name: "t", Listen: "127.0.0.1:0", CostMapSigner: signer,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}
	var id identity.PeerID
	id[0] = 7
	n, err := start(id.String())
	if err != nil {
		t.Fatal(err)
	}
	if n.sharedMap.signer != id || n.costMapExtensions() != nil {
		t.Fatalf("signer %v, extensions %v", n.sharedMap.signer, n.costMapExtensions())
	}
	n.Stop()
	if n, err = start(""); err != nil {
		t.Fatal(err)
	}
	if n.sharedMap.signer != id {
		t.Fatalf("after a restart the signer is %v, want %v from the settings", n.sharedMap.signer, id)
	}
	n.Stop()
	if n, err = start("none"); err != nil {
		t.Fatal(err)
	}
	n.Stop()
	if n, err = start(""); err != nil {
		t.Fatal(err)
	}
	if !n.sharedMap.signer.IsZero() {
		t.Fatalf("after none the signer is %v", n.sharedMap.signer)
	}
	n.Stop()
	if _, err := start("not-a-peer-id"); err == nil || !strings.Contains(err.Error(), "cost-map-signer") {
		t.Fatalf("a bad signer: %v", err)
	}
}
