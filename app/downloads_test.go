package app

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"
)

// downloadsFake is the file fake whose downloads folder can be changed.
type downloadsFake struct {
	*fileFake
	dmu    sync.Mutex
	dir    string
	byFlag bool
	sets   []string
}

func (d *downloadsFake) Downloads() (string, bool) {
	d.dmu.Lock()
	defer d.dmu.Unlock()
	return d.dir, d.byFlag
}

func (d *downloadsFake) SetDownloads(dir string) error {
	d.dmu.Lock()
	defer d.dmu.Unlock()
	d.sets = append(d.sets, dir)
	if d.byFlag {
		return errors.New("set by --downloads")
	}
	d.dir = dir
	return nil
}

func (d *downloadsFake) setCalls() []string {
	d.dmu.Lock()
	defer d.dmu.Unlock()
	return slices.Clone(d.sets)
}

func downloadsHarness(t *testing.T, dir string, byFlag bool) (*harness, *downloadsFake) {
	t.Helper()
	test.NewTempApp(t)
	df := &downloadsFake{fileFake: &fileFake{fakeCore: fivePeers()}, dir: dir, byFlag: byFlag}
	return newHarnessFor(t, df), df
}

// The settings show the folder in use; a new one is handed to the core on
// Save (which applies it at once), an unchanged or relative one is not.
func TestDownloadsSetting(t *testing.T) {
	h, df := downloadsHarness(t, osPath("home", "ada", "Downloads"), false)
	h.u.showSettings()
	var e *keyEntry
	h.waitFor("the folder", func() bool { e = h.entryWithText(osPath("home", "ada", "Downloads")); return e != nil && !e.Disabled() })
	e.SetText("incoming")
	if e.Validate() == nil {
		t.Error("a relative folder passes")
	}
	e.SetText(osPath("home", "ada", "Incoming") + " ")
	test.Tap(h.button("Save"))
	h.waitFor("SetDownloads", func() bool { return len(df.setCalls()) == 1 })
	if got := df.setCalls(); got[0] != osPath("home", "ada", "Incoming") {
		t.Errorf("SetDownloads(%q)", got[0])
	}

	// Unchanged: nothing asked.
	h.u.showSettings()
	h.waitFor("the folder again", func() bool { e = h.entryWithText(osPath("home", "ada", "Incoming")); return e != nil && !e.Disabled() })
	test.Tap(h.button("Save"))
	h.pump()
	if got := df.setCalls(); len(got) != 1 {
		t.Errorf("an unchanged folder was set again: %q", got)
	}
}

// With --downloads the folder shows but cannot be changed here.
func TestDownloadsSettingByFlag(t *testing.T) {
	h, df := downloadsHarness(t, "/srv/in", true)
	h.u.showSettings()
	h.waitFor("the flag's note", func() bool { return len(h.labelsContaining("Set by --downloads")) == 1 })
	e := h.entryWithText("/srv/in")
	if e == nil || !e.Disabled() {
		t.Fatal("the folder set by the flag is editable")
	}
	test.Tap(h.button("Save"))
	h.pump()
	if got := df.setCalls(); len(got) != 0 {
		t.Errorf("asked %q", got)
	}
}
