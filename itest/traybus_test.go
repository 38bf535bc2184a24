package itest

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

// trayBus is a private session D-Bus with a desktop's tray and notification
// services on it, as far as the window uses them: a StatusNotifierWatcher
// that accepts every tray icon (so internal/trayhost finds a tray) and a
// notification server that records what it is asked to show.
type trayBus struct {
	addr  string
	notes chan string // the summaries of the notifications shown
}

func startTrayBus(t *testing.T) *trayBus {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address",
		"--address=unix:path="+filepath.Join(t.TempDir(), "bus"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("dbus-daemon: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	b := &trayBus{addr: strings.TrimSpace(addr), notes: make(chan string, 16)}
	conn, err := dbus.Connect(b.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for name, obj := range map[string]struct {
		path  dbus.ObjectPath
		iface string
		v     any
	}{
		"org.kde.StatusNotifierWatcher": {"/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher", watcherObj{}},
		"org.freedesktop.Notifications": {"/org/freedesktop/Notifications", "org.freedesktop.Notifications", notifierObj{b.notes}},
	} {
		if err := conn.Export(obj.v, obj.path, obj.iface); err != nil {
			t.Fatal(err)
		}
		if r, err := conn.RequestName(name, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("owning %s: %v %v", name, r, err)
		}
	}
	return b
}

type watcherObj struct{}

func (watcherObj) RegisterStatusNotifierItem(string) *dbus.Error { return nil }
func (watcherObj) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

type notifierObj struct{ notes chan string }

func (n notifierObj) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	select {
	case n.notes <- summary:
	default:
	}
	return 1, nil
}
