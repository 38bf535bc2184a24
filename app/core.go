package app

import (
	"context"

	"parley/node"
)

// Core is everything the GUI needs from the node. *node.Node satisfies it; tests use
// a fake. No networking happens in this package.
type Core interface {
	Events() <-chan node.Event
	Self() node.Ready
	Roster() ([]node.PeerView, error)
	SetPresence(status, text string) error
	SetName(name string) error
	Send(to, text string) (string, error)
	AddPeer(ctx context.Context, addr string) (string, error)
	Rooms() []node.Room
	Join(room string) (node.Room, error)
	Leave(room string) (node.Room, error)
	SetTopic(room, topic string) (node.Room, error)
	Say(room, text string) (node.Message, error)
	History(peer, room, before string, limit int) (node.Page, error)
	MarkRead(peer, room, upTo string) ([]string, error)
	Links() []node.Link
	// SetVerified records that the user compared safety numbers with a peer;
	// Block cuts a peer off (or lets it back). Both return the peer as it is now.
	SetVerified(peer string, on bool) (node.PeerView, error)
	Block(peer string, on bool) (node.PeerView, error)
}

// presenceReporter is optional: a core that can tell its own current presence and
// status text (so the selector starts right after a restart).
type presenceReporter interface {
	Presence() (status, text string)
}

// callCore is optional: a core that can place and take voice calls. Without it
// the call buttons, the call bar and the audio settings are not shown.
type callCore interface {
	// Call rings one peer, or up to maxCallOthers for a group call.
	Call(peers ...string) (callID string, err error)
	Answer(id string) error
	Decline(id string) error
	Hangup(id string) error
	Mute(id string, on bool) error
	Calls() []node.CallInfo
}

// audioCore is optional: a core that lists sound devices and remembers which
// ones calls use (specs like "device", "device:NAME", "null").
type audioCore interface {
	AudioDevices() ([]node.AudioDevice, error)
	Audio() (in, out string)
	SetAudio(in, out string) error
}

// fileCore is optional: a core that shares files. Without it the attach
// button, drag and drop and the transfers strip are not there.
type fileCore interface {
	// SendFile offers files (a folder: every file in it) to a peer or into a
	// room, one offer per file. It hashes every file first, so it can take a
	// while for big ones.
	SendFile(to, room string, paths ...string) ([]string, error)
	AcceptFile(id string) error
	DeclineFile(id string) error
	CancelFile(id string) error
	Transfers() []node.Transfer
}

// autoAcceptCore is optional: a core that can take file offers from verified
// peers without asking. Without it the setting is not shown.
type autoAcceptCore interface {
	AutoAcceptVerified() bool
	SetAutoAcceptVerified(on bool) error
}

// ifaceCore is optional: a core whose discovery and calls can be restricted to
// some network interfaces. Without it the settings show the --iface flag only.
type ifaceCore interface {
	NetInterfaces() ([]node.NetInterface, error)
	// Interfaces is the current choice (empty: all) and whether --iface made it.
	Interfaces() (names []string, byFlag bool)
	SetInterfaces(names []string) error
}

var (
	_ ifaceCore      = (*node.Node)(nil)
	_ Core           = (*node.Node)(nil)
	_ autoAcceptCore = (*node.Node)(nil)
	_ callCore       = (*node.Node)(nil)
	_ audioCore      = (*node.Node)(nil)
	_ fileCore       = (*node.Node)(nil)
	_ guestCore      = (*node.Node)(nil)
	_ webURLsCore    = (*node.Node)(nil)
)

// Options are the start-up settings the window shows (most are flags).
type Options struct {
	DataDir string // the data folder in use
	// DataDirByFlag: --data chose it, so it cannot be changed in the settings.
	DataDirByFlag bool
	// SetDataDir checks a folder and makes it the data folder from the next
	// start (main keeps it outside the data folder); nil: not changeable.
	SetDataDir func(dir string) error
	Listen     string   // --listen
	Ifaces     []string // --iface (empty: all)
	Discovery  string   // --discovery
	// SIPAddr is the address the SIP registrar runs on now ("" off) and
	// SIPByFlag whether --sip chose it (then the setting waits for a start
	// without the flag). app/sipsettings.go
	SIPAddr   string
	SIPByFlag bool
	Version   string
	// TrayAvailable: the desktop shows tray icons, so the window may be closed
	// into the tray (background.go).
	TrayAvailable bool
	// StartAtLogin reads and SetStartAtLogin changes whether Parley starts when
	// the user logs in (main writes the OS's entry); nil: not offered.
	StartAtLogin    func() (bool, error)
	SetStartAtLogin func(on bool) error
	// Presence and Status are the own presence ("available", "away", "busy") and
	// status text at start; empty means available. A core implementing
	// Presence() (status, text string) overrides them.
	Presence, Status string
	// Activate brings the window forward (out of the tray too) each time it
	// receives: a second start of Parley on the same data folder (main's
	// activate.go). nil: nothing asks.
	Activate <-chan struct{}
	// Stop closes the window when it is closed: main's SIGINT/SIGTERM context.
	// Fyne catches those signals itself only once its loop runs; one that comes
	// while the window is being made (half a second, seconds on a loaded
	// machine) went to main's context alone, and the window stayed open.
	Stop <-chan struct{}
}
