package app

import (
	"crypto/sha256"
	"image/color"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// avatarSize is the diameter of a chat-list avatar: two text lines high, so the
// row is no taller than a roster row.
const avatarSize = 36

// avatarColour is the colour of an ID's avatar. It is derived from the ID (a
// peer's key, or a room's ID), not from the name, so two peers who call
// themselves the same are more likely to look different, and a peer keeps its
// colour when it renames itself. The hue comes from a hash; saturation and
// lightness are fixed where white initials stay readable on every hue
// (TestAvatarColour checks the contrast).
func avatarColour(id string) color.NRGBA {
	sum := sha256.Sum256([]byte(id))
	hue := float64(uint16(sum[0])<<8|uint16(sum[1])) / 65536 * 360
	return avatarHSL(hue)
}

// avatarHSL is the avatar colour of a hue. Lightness 0.36 keeps yellow and
// cyan, the lightest hues, at a contrast of 3 or more with white (0.42 left
// them at 2.6; TestAvatarColour).
func avatarHSL(hue float64) color.NRGBA { return hsl(hue, 0.55, 0.36) }

// hsl converts a colour from hue (degrees), saturation and lightness (0–1).
func hsl(h, s, l float64) color.NRGBA {
	c := (1 - abs(2*l-1)) * s
	hp := h / 60
	x := c * (1 - abs(mod2(hp)-1))
	var r, g, b float64
	switch {
	case hp < 1:
		r, g = c, x
	case hp < 2:
		r, g = x, c
	case hp < 3:
		g, b = c, x
	case hp < 4:
		g, b = x, c
	case hp < 5:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := l - c/2
	to := func(v float64) uint8 { return uint8((v+m)*255 + 0.5) }
	return color.NRGBA{R: to(r), G: to(g), B: to(b), A: 0xff}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// mod2 is v modulo 2 for v ≥ 0.
func mod2(v float64) float64 { return v - 2*float64(int(v/2)) }

// initials are up to two letters of a name: the first letters of its first and
// last words ("Ada Lovelace" → "AL"), or the first two of a single word ("bob"
// → "BO"). Signs and digits at a word's start are skipped; a name without
// letters gets "?".
func initials(name string) string {
	var firsts []rune
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				firsts = append(firsts, r)
				break
			}
		}
	}
	switch len(firsts) {
	case 0:
		return "?"
	case 1:
		var letters []rune
		for _, r := range name {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				letters = append(letters, r)
			}
			if len(letters) == 2 {
				break
			}
		}
		return strings.ToUpper(string(letters))
	}
	return strings.ToUpper(string([]rune{firsts[0], firsts[len(firsts)-1]}))
}

// avatar is a coloured disc with initials.
type avatar struct {
	disc  *canvas.Circle
	text  *canvas.Text
	box   *fyne.Container
	shown string // the ID and initials last drawn
}

func newAvatar() *avatar {
	a := &avatar{disc: canvas.NewCircle(color.Transparent), text: canvas.NewText("", color.White)}
	a.text.TextStyle.Bold = true
	a.text.Alignment = fyne.TextAlignCenter
	a.text.TextSize = theme.TextSize()
	a.box = container.NewGridWrap(fyne.NewSize(avatarSize, avatarSize),
		container.NewStack(a.disc, container.NewCenter(a.text)))
	return a
}

// set draws the avatar of id with the initials of name.
func (a *avatar) set(id, name string) {
	text := initials(name)
	if a.shown == id+"\x00"+text {
		return
	}
	a.shown = id + "\x00" + text
	a.disc.FillColor = avatarColour(id)
	a.text.Text = text
	a.disc.Refresh()
	a.text.Refresh()
}
