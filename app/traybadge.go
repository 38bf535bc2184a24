package app

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"fyne.io/fyne/v2"
)

// unreadColor is the badge's red, the one chat apps use for "something new".
var unreadColor = color.NRGBA{R: 0xE5, G: 0x39, B: 0x35, A: 0xFF}

// badged returns the icon with a filled red dot in its top-right corner, ringed
// in white so it reads on dark and light panels alike: the tray icon while
// messages are unread (a tray is glanced at; a count in its menu is not seen
// until it is opened). A PNG that does not decode is returned unchanged.
func badged(icon []byte) []byte {
	src, err := png.Decode(bytes.NewReader(icon))
	if err != nil {
		return icon
	}
	b := src.Bounds()
	img := image.NewNRGBA(b)
	draw.Draw(img, b, src, b.Min, draw.Src)
	side := min(b.Dx(), b.Dy())
	r := float64(side) * 0.22 // radius of the dot
	ring := r + float64(side)*0.04
	cx, cy := float64(b.Max.X)-ring-1, float64(b.Min.Y)+ring+1
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			switch d := dx*dx + dy*dy; {
			case d <= r*r:
				img.SetNRGBA(x, y, unreadColor)
			case d <= ring*ring:
				img.SetNRGBA(x, y, color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF})
			}
		}
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return icon
	}
	return out.Bytes()
}

// trayIcons are the plain and the unread tray icon, made once.
type trayIcons struct {
	plain, unread fyne.Resource
}

func newTrayIcons(icon []byte) trayIcons {
	return trayIcons{
		plain:  fyne.NewStaticResource("icon.png", icon),
		unread: fyne.NewStaticResource("icon-unread.png", badged(icon)),
	}
}
