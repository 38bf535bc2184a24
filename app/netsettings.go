package app

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// ifaceSettings is the settings dialog's choice of network interfaces: "All
// interfaces", or some of them ticked. The list comes from the core in the
// background; nothing here touches the network. Unticking the last interface
// ticks "All" again, so there is no state that finds nobody.
type ifaceSettings struct {
	u      *ui
	core   ifaceCore
	all    *widget.Check
	list   *widget.CheckGroup
	note   *widget.Label
	names  map[string]string // option label → interface name
	was    []string          // the choice when the dialog opened
	loaded bool
}

func newIfaceSettings(u *ui) *ifaceSettings {
	core, ok := u.core.(ifaceCore)
	if !ok {
		return nil
	}
	s := &ifaceSettings{u: u, core: core, names: map[string]string{}, note: hint("")}
	s.all = widget.NewCheck("All interfaces", nil)
	s.list = widget.NewCheckGroup(nil, nil)
	s.all.Disable()
	s.list.Disable()
	type found struct {
		list   []node.NetInterface
		chosen []string
		byFlag bool
	}
	background(u, func() (found, error) {
		var f found
		f.chosen, f.byFlag = core.Interfaces()
		var err error
		f.list, err = core.NetInterfaces()
		return f, err
	}, func(f found, err error) { s.fill(f.list, f.chosen, f.byFlag, err) })
	return s
}

// ifaceLabel says what an interface is beside its name: its addresses, or why
// it has none.
func ifaceLabel(ni node.NetInterface) string {
	switch {
	case ni.Missing:
		return ni.Name + " (not on this machine now)"
	case !ni.Up:
		return ni.Name + " (down)"
	case len(ni.Addrs) > 0:
		return ni.Name + " (" + strings.Join(ni.Addrs, ", ") + ")"
	}
	return ni.Name
}

func (s *ifaceSettings) fill(list []node.NetInterface, chosen []string, byFlag bool, err error) {
	s.was = chosen
	var options, ticked []string
	for _, ni := range list {
		label := ifaceLabel(ni)
		s.names[label] = ni.Name
		options = append(options, label)
		if slices.Contains(chosen, ni.Name) {
			ticked = append(ticked, label)
		}
	}
	s.list.Options = options
	s.list.SetSelected(ticked)
	s.all.SetChecked(len(chosen) == 0)
	switch {
	case byFlag:
		s.note.SetText("Set by --iface for this run (" + strings.Join(chosen, ", ") + "); start without the flag to choose here.")
		return
	case err != nil:
		s.note.Importance = widget.WarningImportance
		s.note.SetText("The interfaces could not be listed (" + err.Error() + ").")
		return
	case len(options) == 0:
		s.note.SetText("This machine has no interface peers can be found on (multicast, not loopback).")
	default:
		s.note.SetText("Peers are looked for, and calls connect, on these only; a change applies within seconds. --iface overrides this at start.")
	}
	s.all.OnChanged = func(on bool) {
		if on {
			s.list.SetSelected(nil)
		} else if len(s.list.Selected) == 0 && len(s.list.Options) > 0 {
			// Unticking "All" means some: start from the first, the user ticks on.
			s.list.SetSelected(s.list.Options[:1])
		}
	}
	s.list.OnChanged = func(sel []string) {
		if s.all.Checked != (len(sel) == 0) {
			s.all.SetChecked(len(sel) == 0)
		}
	}
	s.all.Enable()
	s.list.Enable()
	s.loaded = true
}

// chosen is the ticked interfaces' names, in the list's order (none: all).
func (s *ifaceSettings) chosen() []string {
	var out []string
	for _, label := range s.list.Options {
		if slices.Contains(s.list.Selected, label) {
			out = append(out, s.names[label])
		}
	}
	return out
}

func (s *ifaceSettings) items() []*widget.FormItem {
	return []*widget.FormItem{
		widget.NewFormItem("Interfaces", container.NewVBox(s.all, s.list)),
		widget.NewFormItem("", s.note),
	}
}

// save hands a changed choice to the core, which checks it against this
// machine's interfaces.
func (s *ifaceSettings) save() {
	if !s.loaded {
		return
	}
	names := s.chosen()
	if slices.Equal(names, s.was) {
		return
	}
	u := s.u
	background(u, func() (struct{}, error) { return struct{}{}, s.core.SetInterfaces(names) },
		func(_ struct{}, err error) {
			if err != nil {
				u.showError("Changing the interfaces", err)
			}
		})
}

// dataDirSetting is the data folder in the settings: a path with a folder
// picker. A new folder applies from the next start (the identity key and the
// database are open while Parley runs); Options.SetDataDir checks it and
// remembers it.
type dataDirSetting struct {
	u     *ui
	entry *keyEntry
	item  fyne.CanvasObject
}

func newDataDirSetting(u *ui) *dataDirSetting {
	d := &dataDirSetting{u: u}
	if u.opts.SetDataDir == nil || u.opts.DataDirByFlag {
		l := widget.NewLabel(orDash(u.opts.DataDir))
		l.Wrapping = fyne.TextWrapWord
		l.Selectable = true
		if u.opts.DataDirByFlag {
			d.item = container.NewVBox(l, hint("Set by --data for this run; start without the flag to choose here."))
		} else {
			d.item = l
		}
		return d
	}
	d.entry = newKeyEntry(u)
	d.entry.SetText(u.opts.DataDir)
	d.entry.Validator = validDataDir
	pick := widget.NewButton("Choose…", d.pick)
	d.item = container.NewVBox(container.NewBorder(nil, nil, nil, pick, d.entry),
		hint("Identity key, people, history. A new folder is used from the next start."))
	return d
}

// validDataDir checks the form of a path; whether it can be written is found
// out on save.
func validDataDir(s string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return errors.New("the data folder cannot be empty")
	case !filepath.IsAbs(s) && !strings.HasPrefix(s, "~"+string(filepath.Separator)):
		return errors.New("give the full path of the folder")
	}
	return nil
}

// pick fills the entry from a folder dialog.
func (d *dataDirSetting) pick() {
	fd := dialog.NewFolderOpen(func(uri fyne.ListableURI, err error) {
		if err != nil {
			d.u.showError("Choosing the data folder", err)
			return
		}
		if uri != nil {
			d.entry.SetText(uri.Path())
		}
	}, d.u.win)
	if l, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(d.u.opts.DataDir))); err == nil {
		fd.SetLocation(l)
	}
	fd.Resize(fyne.NewSize(700, 500))
	d.u.showDialog(fd)
}

// save checks and remembers a changed folder, then says when it applies and
// what it means for the data in the current one.
func (d *dataDirSetting) save() {
	if d.entry == nil {
		return
	}
	dir := strings.TrimSpace(d.entry.Text)
	if dir == d.u.opts.DataDir || validDataDir(dir) != nil {
		return
	}
	u := d.u
	set := u.opts.SetDataDir
	background(u, func() (struct{}, error) { return struct{}{}, set(dir) }, func(_ struct{}, err error) {
		if err != nil {
			u.showError("Changing the data folder", err)
			return
		}
		slog.Info("data folder chosen for the next start", "dir", dir)
		if u.win == nil {
			return
		}
		u.showDialog(dialog.NewInformation("Data folder", fmt.Sprintf(
			"Parley uses %s from its next start: quit and start it again to switch.\n\n"+
				"Your identity, people and history stay in %s. If the new folder has no Parley data, "+
				"Parley starts there with a new identity; to take them along, quit Parley and move the "+
				"contents of the current folder into the new one before starting again.",
			dir, u.opts.DataDir), u.win))
	})
}

func hint(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.LowImportance
	return l
}
