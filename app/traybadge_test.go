package app

import (
	"bytes"
	"image/png"
	"testing"
	"time"

	"parley/assets"
	"parley/node"
)

func TestBadgedIconHasARedDotTopRight(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(badged(assets.Icon)))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := png.Decode(bytes.NewReader(assets.Icon))
	if img.Bounds() != plain.Bounds() {
		t.Fatalf("badged icon is %v, the icon %v", img.Bounds(), plain.Bounds())
	}
	b := img.Bounds()
	side := float64(b.Dx())
	// The dot's centre, inside its radius.
	x, y := b.Max.X-int(side*0.26)-1, b.Min.Y+int(side*0.26)+1
	if r, g, bl, _ := img.At(x, y).RGBA(); r>>8 != 0xE5 || g>>8 != 0x39 || bl>>8 != 0x35 {
		t.Errorf("pixel at the dot's centre is %v", img.At(x, y))
	}
	// The opposite corner is untouched.
	cx, cy := b.Min.X+b.Dx()/4, b.Max.Y-b.Dy()/4
	r1, g1, b1, a1 := img.At(cx, cy).RGBA()
	r2, g2, b2, a2 := plain.At(cx, cy).RGBA()
	if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
		t.Errorf("the badge changed the bottom-left of the icon")
	}
	if got := badged([]byte("not a png")); string(got) != "not a png" {
		t.Error("a PNG that does not decode should come back unchanged")
	}
}

func TestTrayIconShowsUnread(t *testing.T) {
	h := newHarness(t, fivePeers())
	if h.u.tray.shown != h.u.tray.icons.plain {
		t.Fatalf("with nothing unread the tray shows %v", h.u.tray.shown)
	}
	h.emit(node.MessageReceived{ID: "m1", From: bobID, Text: "psst", Sent: time.Now()})
	if h.u.tray.shown != h.u.tray.icons.unread {
		t.Fatalf("with a message unread the tray shows %v", h.u.tray.shown)
	}
	h.openPeer(bobID)
	if h.u.tray.shown != h.u.tray.icons.plain {
		t.Fatalf("after reading it the tray shows %v", h.u.tray.shown)
	}
}
