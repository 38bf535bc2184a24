package app

import (
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// downloadsCore is optional: a core whose downloads folder can be changed
// while it runs. Without it the settings do not show the folder.
type downloadsCore interface {
	// Downloads is the folder now, and whether --downloads chose it.
	Downloads() (dir string, byFlag bool)
	SetDownloads(dir string) error
}

var _ downloadsCore = (*node.Node)(nil)

// downloadsSetting is the settings dialog's downloads folder: an entry with a
// folder picker, saved with the dialog and applied at once (to files accepted
// from then on). The core's folder is read in the background; until it is
// known the entry is disabled.
type downloadsSetting struct {
	u      *ui
	core   downloadsCore
	entry  *keyEntry
	pick   *widget.Button
	was    string
	loaded bool
	item   *widget.FormItem
}

func newDownloadsSetting(u *ui) *downloadsSetting {
	core, ok := u.core.(downloadsCore)
	if !ok || u.files == nil {
		return nil
	}
	d := &downloadsSetting{u: u, core: core, entry: newKeyEntry(u)}
	d.entry.Validator = validDownloads
	d.entry.Disable()
	d.pick = widget.NewButton("Choose…", d.choose)
	d.pick.Disable()
	note := hint("Accepted files land here, from the next one on.")
	d.item = widget.NewFormItem("Downloads", container.NewVBox(container.NewBorder(nil, nil, nil, d.pick, d.entry), note))
	type folder struct {
		dir    string
		byFlag bool
	}
	background(u, func() (folder, error) { dir, byFlag := core.Downloads(); return folder{dir, byFlag}, nil },
		func(f folder, _ error) {
			d.was, d.loaded = f.dir, !f.byFlag
			d.entry.SetText(f.dir)
			if f.byFlag {
				note.SetText("Set by --downloads for this run; start without the flag to choose here.")
				return
			}
			d.entry.Enable()
			d.pick.Enable()
		})
	return d
}

func validDownloads(s string) error { return validFolder(s, "the downloads folder") }

// validFolder checks the form of a folder path (the core checks the rest).
func validFolder(s, what string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return errorf(what, errEmpty)
	case !filepath.IsAbs(s):
		return errorf(what, errNotFull)
	}
	return nil
}

type folderError string

func (e folderError) Error() string { return string(e) }

const (
	errEmpty   = folderError("give a folder")
	errNotFull = folderError("give the full path of the folder")
)

// choose fills the entry from a folder dialog.
func (d *downloadsSetting) choose() {
	fd := dialog.NewFolderOpen(func(uri fyne.ListableURI, err error) {
		if err != nil {
			d.u.showError("Choosing the downloads folder", err)
			return
		}
		if uri != nil {
			d.entry.SetText(uri.Path())
		}
	}, d.u.win)
	if l, err := storage.ListerForURI(storage.NewFileURI(d.was)); err == nil {
		fd.SetLocation(l)
	}
	fd.Resize(fyne.NewSize(700, 500))
	d.u.showDialog(fd)
}

// save hands a changed folder to the core, which applies it at once.
func (d *downloadsSetting) save() {
	dir := strings.TrimSpace(d.entry.Text)
	if !d.loaded || filepath.Clean(dir) == filepath.Clean(d.was) || validDownloads(dir) != nil {
		return
	}
	background(d.u, func() (struct{}, error) { return struct{}{}, d.core.SetDownloads(dir) },
		func(_ struct{}, err error) {
			if err != nil {
				d.u.showError("Changing the downloads folder", err)
			}
		})
}
