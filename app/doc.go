// Package app is Parley's Fyne desktop GUI: a thin skin over the core that talks to it
// only through the Core interface (which *node.Node satisfies) and its event stream.
// It is the only package besides main allowed to import Fyne.
//
// Threading: widgets are touched only on the UI goroutine. Core events reach it
// through ui.do (fyne.Do in production); every core call made from a UI callback runs
// in its own goroutine and applies its result through ui.do, so a stalled core never
// freezes the window.
//
// One screen per file: roster.go (people) and rooms.go with row.go (a list row),
// filter.go (the filter box, tab keys and the hints over an empty list),
// conversation.go (messages, paging, day separators, "New messages") with bubble.go (one row),
// header.go, sending.go (send, marks) and composer.go, details.go (peer details and
// the same-name warning), profile.go (own presence), dialogs.go (add peer,
// settings), tray.go (system tray), events.go (core events), run.go (the window).
//
// Calls, when the core has them (the optional callCore and audioCore in
// core.go): calls.go (the call in progress, from core events), callactions.go
// (call, answer, decline, mute, hang up), callchooser.go (whom to call in a
// big room), ringcard.go (an incoming call), callbar.go (the in-call bar),
// callwords.go (states, end reasons and quality in words), audiosettings.go
// (microphone and speaker), with tooltip.go, meter.go, tint.go and icons.go.
//
// Trust: trust.go (verify, block with its confirmation, the key-change and
// same-name warnings, the network line in Settings); details.go holds the toggle.
//
// Files, when the core has them (the optional fileCore): transfers.go (what is
// known of each transfer, from core events), fileactions.go (send, drop, accept,
// decline, cancel, open), transferstrip.go and transfercard.go (the cards above
// the composer), filewords.go (sizes, rates, reasons in words), thumbnail.go
// (bounded image thumbnails, decoded off the UI goroutine).
package app
