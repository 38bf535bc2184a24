package app

import (
	"errors"
	"image"
	_ "image/gif" // decoders for thumbnails
	_ "image/jpeg"
	_ "image/png"
	"os"
)

// Thumbnails of received images. Decoding runs off the UI goroutine and is
// bounded, so a huge or hostile picture (a "decompression bomb" that declares
// 100 000 × 100 000 pixels in a few bytes) costs neither memory nor a frozen
// window.

const (
	thumbSide      = 96               // the longest side of a thumbnail, in pixels
	maxThumbFile   = 40 << 20         // larger files get no thumbnail
	maxThumbPixels = 40 * 1000 * 1000 // nor do larger pictures
)

// loadThumb decodes t's file in the background and shows the thumbnail.
func (u *ui) loadThumb(t *transfer) {
	path := t.path
	background(u, func() (image.Image, error) { return thumbnail(path) },
		func(img image.Image, err error) {
			if err != nil || u.transfers[t.id] != t {
				return // no thumbnail is no loss: the card still says what it is
			}
			t.thumb = img
			u.strip.update(t)
		})
}

// thumbnail reads an image file and shrinks it to at most thumbSide pixels a side.
func thumbnail(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxThumbFile {
		return nil, errors.New("too big for a thumbnail")
	}
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxThumbPixels {
		return nil, errors.New("too many pixels for a thumbnail")
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, err
	}
	return shrink(img, thumbSide), nil
}

// shrink scales img down so its longest side is at most side, averaging the
// source pixels under each target pixel (a box filter: plenty for a thumbnail).
func shrink(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		return img
	}
	tw, th := side, h*side/w
	if h > w {
		tw, th = w*side/h, side
	}
	tw, th = max(tw, 1), max(th, 1)
	out := image.NewNRGBA(image.Rect(0, 0, tw, th))
	for y := 0; y < th; y++ {
		y0, y1 := b.Min.Y+y*h/th, b.Min.Y+max((y+1)*h/th, y*h/th+1)
		for x := 0; x < tw; x++ {
			x0, x1 := b.Min.X+x*w/tw, b.Min.X+max((x+1)*w/tw, x*w/tw+1)
			var r, g, bl, a, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, ca := img.At(sx, sy).RGBA()
					r, g, bl, a, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca), n+1
				}
			}
			// Average premultiplied values, then un-premultiply for NRGBA.
			i := out.PixOffset(x, y)
			if a == 0 {
				continue
			}
			out.Pix[i+0] = uint8(r * 0xff / a)
			out.Pix[i+1] = uint8(g * 0xff / a)
			out.Pix[i+2] = uint8(bl * 0xff / a)
			out.Pix[i+3] = uint8(a / n >> 8)
		}
	}
	return out
}
