package app

import (
	"context"
	"runtime/debug"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"

	"parley/assets"
)

// AppID is the desktop application ID (also in FyneApp.toml).
const AppID = "app.parley.desktop"

// settleAfter: from the window's loop starting to the collection after start-up.
// The chat list, roster and unread counts are in by then (they take tens of ms
// after the first frame); cmd/benchgui reads the idle RSS 5 s after the window
// is drawn, so this must be well below that.
const settleAfter = 3 * time.Second

// Run shows the Parley window for a running core and returns when it is closed.
// It must be called from the main goroutine.
func Run(core Core, opts Options) error {
	a := fyneapp.NewWithID(AppID)
	fonts := parseFonts()
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	a.SetIcon(icon)
	w := a.NewWindow("Parley")
	w.SetIcon(icon)
	u := newUI(core, opts, w, fyne.Do)
	<-fonts
	w.SetContent(u.build())
	w.Resize(fyne.NewSize(1000, 650))
	w.SetMaster()

	// The tray is set up only where one is shown (opts.TrayAvailable, from
	// internal/trayhost). Elsewhere it would do nothing but harm: without a
	// session D-Bus, Fyne's tray (fyne.io/systray 1.11.1) keeps a nil
	// connection and Quit panics closing it, so the process died before main
	// could stop the node and say goodbye (TestDesktopSmoke under Xvfb).
	var desk desktop.App
	if opts.TrayAvailable {
		desk, _ = a.(desktop.App)
	}
	// No SetSystemTrayWindow: it turns closing into hiding everywhere, and on
	// desktops without a tray the window could then not be reached again. The
	// close button asks closeRequested instead (background.go), which hides only
	// where opts.TrayAvailable. The tray icon (plain, or with a red dot while
	// messages are unread) is set by update.
	u.tray = newTrayMenu(u, desk, newTrayIcons(assets.Icon))
	u.tray.update()
	a.Lifecycle().SetOnEnteredForeground(func() { u.setFocused(true) })
	a.Lifecycle().SetOnExitedForeground(func() { u.setFocused(false) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	u.start(ctx)
	if opts.Stop != nil {
		go func() {
			select {
			case <-ctx.Done():
			case <-opts.Stop:
				fyne.Do(a.Quit) // queued until the loop runs, if it does not yet
			}
		}()
	}
	if opts.Activate != nil {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-opts.Activate:
					fyne.Do(u.showWindow)
				}
			}
		}()
	}
	// Start-up leaves garbage behind (font tables, the first history page, TLS
	// handshakes) that a heap at rest would keep in memory until enough new
	// allocation triggers the next collection — at idle, never. Collect once the
	// window has settled and hand the freed pages back to the system: settleAfter
	// counted from the loop's start (the first frame follows within a tick), not
	// from here, as on a loaded machine the window takes seconds to appear and a
	// collection before it left the first frame's garbage resident.
	var settle *time.Timer
	a.Lifecycle().SetOnStarted(func() { settle = time.AfterFunc(settleAfter, debug.FreeOSMemory) })
	defer func() {
		if settle != nil {
			settle.Stop()
		}
	}()
	w.ShowAndRun()
	return nil
}

// parseFonts has the faces of the two text styles the first frame draws with
// (regular and bold: startup_test.go) parsed on another goroutine, so that on
// a second core they are ready when the window, made meanwhile on this one
// (the display connection and GL context), is given its content. Fyne parses a
// style's faces on its first measurement, about 15-40 ms a style here (the
// theme font, a system font, the 4 MB emoji font); build waits for this rather
// than parse the same faces a second time beside it.
func parseFonts() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, style := range []fyne.TextStyle{{}, {Bold: true}} {
			fyne.MeasureText("Parley", theme.TextSize(), style)
		}
	}()
	return done
}
