// Package app is Parley's Fyne desktop window: the roster and rooms, conversations,
// calls, file transfers, peer details and settings. It is a skin over the core and
// the only package besides main allowed to import Fyne; no networking or storage
// happens here.
//
// # Talking to the core
//
// The window sees the core only through the Core interface (core.go), which
// *node.Node satisfies and tests replace with a scripted fake. Actions are calls
// of node's command methods (Send, Join, Call, SendFile, SetVerified, …); what
// happens later arrives as typed node events on the Events stream, which one
// goroutine (pump, events.go) hands to the UI goroutine, where handle switches on
// the event's type. Features the core may lack are optional interfaces (callCore,
// audioCore, fileCore, autoAcceptCore, ifaceCore, presenceReporter in core.go): a
// core without one gets a window without its buttons and settings.
//
// # Threading
//
// Widgets are touched only on the UI goroutine. Core events reach it through
// ui.do (fyne.Do in production, built with -tags migrated_fynedo); every core call
// made from a UI callback runs in its own goroutine and applies its result through
// ui.do, so a stalled core never freezes the window (tested with a send that
// blocks for 2 s). Work that can be slow for other reasons, such as decoding a
// thumbnail, is done off the UI goroutine too.
//
// # Tests
//
// The tests drive the window headlessly (Fyne's test driver) over the fake core;
// TestScreenshot renders the screenshots in testdata with PARLEY_SCREENSHOTS=1, and
// the real binary's window is tested under Xvfb by the integration tests.
package app
