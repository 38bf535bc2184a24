package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	qrcode "github.com/skip2/go-qrcode"
)

// qrPixels is the side of the QR code PNG. The image is scaled pixel by
// pixel (no smoothing), so the modules stay sharp at any size on screen; a
// version 3 code (a URL of up to ~50 characters at level M) is 29 modules plus
// 8 of quiet zone, 6 pixels each at 256 (TestInviteQRCodeDecodes reads it back).
const qrPixels = 256

// qrSide is the QR code's size in the dialog: a phone camera a step from a
// laptop screen reads 3-mm modules at once.
const qrSide = 200

// qrImage draws text as a QR code: black on white whatever the theme (scanners
// expect dark modules on a light ground), error correction level M (15 %: a
// screen's glare, not print damage).
func qrImage(text string) (*canvas.Image, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, qrPixels)
	if err != nil {
		return nil, err
	}
	img := canvas.NewImageFromResource(fyne.NewStaticResource("invite-qr.png", png))
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScalePixels
	img.SetMinSize(fyne.NewSquareSize(qrSide))
	return img, nil
}
