package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Call icons. Fyne's theme has no telephone or microphone, so these are drawn
// here: fill-only SVG on a 24×24 grid, so theme.NewThemedResource can recolour
// them (it replaces fills, not strokes) for every theme and button importance.

// handset is a receiver standing upright, opening to the right: a curved spine
// and two pads (earpiece at the top, mouthpiece at the bottom).
const handset = `<path d="M6.45 3 A11.33 11.33 0 0 0 6.45 21 L9.82 19 A7.83 7.83 0 0 1 9.82 5 Z"/>` +
	`<path d="M7.5 2.5 H10 A2 2 0 0 1 12 4.5 V5.5 A2 2 0 0 1 10 7.5 H7.5 A2 2 0 0 1 5.5 5.5 V4.5 A2 2 0 0 1 7.5 2.5 Z"/>` +
	`<path d="M7.5 16.5 H10 A2 2 0 0 1 12 18.5 V19.5 A2 2 0 0 1 10 21.5 H7.5 A2 2 0 0 1 5.5 19.5 V18.5 A2 2 0 0 1 7.5 16.5 Z"/>`

// mic is a capsule in a holder on a stand.
const mic = `<path d="M9 5 A3 3 0 0 1 15 5 V11 A3 3 0 0 1 9 11 Z"/>` +
	`<path d="M5 11 A7 7 0 0 0 19 11 L17.2 11 A5.2 5.2 0 0 1 6.8 11 Z"/>` +
	`<rect x="11.1" y="17.5" width="1.8" height="3.5"/>` +
	`<rect x="8" y="20.5" width="8" height="1.8"/>`

func svgIcon(name, body string) fyne.Resource {
	return theme.NewThemedResource(fyne.NewStaticResource(name,
		[]byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">`+body+`</svg>`)))
}

var (
	// callIcon: the handset tilted as on most phones' call buttons.
	callIcon = svgIcon("call.svg", `<g transform="rotate(-45 12 12)">`+handset+`</g>`)
	// hangupIcon: the handset laid down, ends pointing to the floor.
	hangupIcon = svgIcon("hangup.svg", `<g transform="rotate(90 12 12)">`+handset+`</g>`)
	micIcon    = svgIcon("mic.svg", mic)
	// micOffIcon: the microphone struck through.
	micOffIcon = svgIcon("mic-off.svg", mic+`<rect x="11.1" y="-1" width="1.8" height="26" transform="rotate(-45 12 12)"/>`)
)

// shield is a badge with a tick cut out of it (even-odd fill), the mark of a
// verified peer.
const shield = `<path fill-rule="evenodd" d="M12 2 L20 5 V11 C20 16 16.6 20.4 12 22 C7.4 20.4 4 16 4 11 V5 Z ` +
	`M10.6 15.6 L7 12 L8.4 10.6 L10.6 12.8 L15.6 7.8 L17 9.2 Z"/>`

// verifiedIcon is the shield in the theme's success colour, so it reads as
// "checked" on every theme.
// keyWarningIcon marks a roster row whose name another key also uses. An icon, not
// a "⚠" glyph: the bundled text font lacks that glyph, so it came from whatever
// fallback font a system has (the colour emoji font here), looking different on
// every machine; the icon is the same everywhere, in the theme's warning colour.
// A function, not a package variable: theme.WarningIcon asks the running app for
// its theme, and at package initialisation there is none, which made every start
// (headless and --version too) log "Attempt to access current Fyne app when none
// is started".
func keyWarningIcon() fyne.Resource { return theme.NewWarningThemedResource(theme.WarningIcon()) }

var verifiedIcon = theme.NewSuccessThemedResource(fyne.NewStaticResource("verified.svg",
	[]byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">`+shield+`</svg>`)))
