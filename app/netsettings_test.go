package app

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

func (f *fakeCore) NetInterfaces() ([]node.NetInterface, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.netIfaces), nil
}

func (f *fakeCore) Interfaces() ([]string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ifaceChoice), f.ifaceByFlag
}

func (f *fakeCore) SetInterfaces(names []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ifaceSets = append(f.ifaceSets, slices.Clone(names))
	if f.ifaceErr != nil {
		return f.ifaceErr
	}
	f.ifaceChoice = slices.Clone(names)
	return nil
}

func (f *fakeCore) ifaceCalls() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ifaceSets)
}

// ifaceWidgets opens the settings and waits until the interface list is in.
func (h *harness) ifaceWidgets() (*widget.Check, *widget.CheckGroup) {
	h.t.Helper()
	h.u.showSettings()
	var all *widget.Check
	var list *widget.CheckGroup
	h.waitFor("the interface list", func() bool {
		h.everything(func(o fyne.CanvasObject) {
			switch x := o.(type) {
			case *widget.Check:
				if x.Text == "All interfaces" {
					all = x
				}
			case *widget.CheckGroup:
				list = x
			}
		})
		return all != nil && list != nil && len(list.Options) > 0
	})
	return all, list
}

func TestSettingsChooseInterfaces(t *testing.T) {
	h := newHarness(t, fivePeers())
	all, list := h.ifaceWidgets()
	want := []string{"eth0 (192.168.1.10)", "wlan0 (10.0.0.7)", "eth1 (down)"}
	if !slices.Equal(list.Options, want) {
		t.Errorf("offered %q, want %q", list.Options, want)
	}
	if !all.Checked || len(list.Selected) != 0 || all.Disabled() || list.Disabled() {
		t.Fatalf("a fresh choice: all %v, ticked %q, disabled %v/%v", all.Checked, list.Selected, all.Disabled(), list.Disabled())
	}
	test.Tap(all) // untick "All": the first interface is ticked for a start
	if !slices.Equal(list.Selected, want[:1]) {
		t.Fatalf("unticking All ticked %q", list.Selected)
	}
	list.SetSelected([]string{want[0], want[1]})
	test.Tap(h.button("Save"))
	h.waitFor("the choice to reach the core", func() bool { return len(h.fc.ifaceCalls()) == 1 })
	if got := h.fc.ifaceCalls()[0]; !slices.Equal(got, []string{"eth0", "wlan0"}) {
		t.Errorf("core got %q", got)
	}

	// Opened again, the dialog shows the choice; unticking every interface
	// ticks "All" again, which the core receives as no restriction.
	all, list = h.ifaceWidgets()
	if all.Checked || !slices.Equal(list.Selected, want[:2]) {
		t.Fatalf("reopened: all %v, ticked %q", all.Checked, list.Selected)
	}
	list.SetSelected(nil)
	if !all.Checked {
		t.Error("unticking every interface did not tick All")
	}
	test.Tap(h.button("Save"))
	h.waitFor("the second choice", func() bool { return len(h.fc.ifaceCalls()) == 2 })
	if got := h.fc.ifaceCalls()[1]; len(got) != 0 {
		t.Errorf("All reached the core as %q", got)
	}

	// Saving without a change does not bother the core.
	h.ifaceWidgets()
	test.Tap(h.button("Save"))
	h.pump()
	if n := len(h.fc.ifaceCalls()); n != 2 {
		t.Errorf("an unchanged choice was sent (%d calls)", n)
	}
}

func TestSettingsInterfaceErrorsAndFlag(t *testing.T) {
	fc := fivePeers()
	fc.ifaceErr = errors.New("interfaces: this machine has no interface \"wlan0\"")
	h := newHarness(t, fc)
	all, list := h.ifaceWidgets()
	test.Tap(all)
	list.SetSelected(list.Options[1:2])
	test.Tap(h.button("Save"))
	h.waitFor("the refusal", func() bool { return len(h.labelsContaining(`no interface "wlan0"`)) > 0 })

	fc = fivePeers()
	fc.ifaceChoice, fc.ifaceByFlag = []string{"eth0"}, true
	h = newHarness(t, fc)
	all, list = h.ifaceWidgets()
	if !all.Disabled() || !list.Disabled() || !slices.Equal(list.Selected, list.Options[:1]) {
		t.Errorf("under --iface: disabled %v/%v, ticked %q", all.Disabled(), list.Disabled(), list.Selected)
	}
	if len(h.labelsContaining("Set by --iface")) == 0 {
		t.Error("the settings do not say --iface is in force")
	}
}

// dataDirEntry finds the data folder's entry in the open settings.
func (h *harness) dataDirEntry() *keyEntry {
	var found *keyEntry
	h.everything(func(o fyne.CanvasObject) {
		if e, ok := o.(*keyEntry); ok && e.Validator != nil && e.Text == h.u.opts.DataDir {
			found = e
		}
	})
	return found
}

func TestSettingsChangeDataFolder(t *testing.T) {
	h := newHarness(t, fivePeers())
	var mu sync.Mutex
	var set []string
	var setErr error
	h.u.opts.SetDataDir = func(dir string) error {
		mu.Lock()
		defer mu.Unlock()
		set = append(set, dir)
		return setErr
	}
	calls := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(set) }

	h.u.showSettings()
	e := h.dataDirEntry()
	if e == nil {
		t.Fatal("no data folder entry")
	}
	if h.button("Choose…") == nil {
		t.Error("no folder picker")
	}
	for _, bad := range []string{"", "relative/dir"} {
		e.SetText(bad)
		if e.Validate() == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	e.SetText(osPath("mnt", "big", "parley"))
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	test.Tap(h.button("Save"))
	h.waitFor("the note on when it applies", func() bool { return len(h.labelsContaining("from its next start")) > 0 })
	if got := calls(); !slices.Equal(got, []string{osPath("mnt", "big", "parley")}) {
		t.Errorf("SetDataDir got %q", got)
	}
	for len(h.u.dialogs) > 0 {
		h.u.dialogs[len(h.u.dialogs)-1].Hide()
	}

	// A folder that cannot be written is reported with the reason.
	mu.Lock()
	setErr = errors.New("cannot write in the folder /ro: permission denied")
	mu.Unlock()
	h.u.showSettings()
	h.dataDirEntry().SetText(osPath("ro"))
	test.Tap(h.button("Save"))
	h.waitFor("the refusal", func() bool { return len(h.labelsContaining("permission denied")) > 0 })
	if len(h.labelsContaining("from its next start")) != 0 {
		t.Error("a refused folder was announced for the next start")
	}
}

func TestSettingsDataFolderUnderFlag(t *testing.T) {
	h := newHarness(t, fivePeers())
	h.u.opts.SetDataDir = func(string) error { t.Error("changed under --data"); return nil }
	h.u.opts.DataDirByFlag = true
	h.u.showSettings()
	if h.dataDirEntry() != nil || h.button("Choose…") != nil {
		t.Error("the folder can be edited under --data")
	}
	if len(h.labelsContaining("/home/me/.config/parley")) == 0 || len(h.labelsContaining("Set by --data")) == 0 {
		t.Error("the settings do not show the folder and the flag")
	}
}
