package app

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// addPeerTimeout bounds a connection attempt by address.
const addPeerTimeout = 20 * time.Second

// validAddr checks host:port syntax (no lookup).
func validAddr(s string) error {
	host, port, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil {
		return errors.New("write host:port, e.g. 192.168.1.20:48556")
	}
	if host == "" {
		return errors.New("the host is missing")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return errors.New("the port must be 1–65535")
	}
	return nil
}

// showAddPeer asks for an address and connects to it.
func (u *ui) showAddPeer() {
	if u.win == nil {
		return
	}
	addr := newKeyEntry(u)
	addr.SetPlaceHolder("192.168.1.20:48556")
	addr.Validator = validAddr
	help := widget.NewLabel("For networks where peers cannot find each other by themselves.\nThe default port is 48556.")
	help.Importance = widget.LowImportance
	d := dialog.NewForm("Add peer by address", "Connect", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Address", addr), widget.NewFormItem("", help)},
		func(ok bool) {
			if ok {
				u.addPeer(strings.TrimSpace(addr.Text))
			}
		}, u.win)
	addr.OnSubmitted = func(string) { d.Submit() }
	d.Resize(fyne.NewSize(460, 220))
	u.showDialog(d)
	u.win.Canvas().Focus(addr)
}

// addPeer connects in the background, with a cancellable progress dialog.
func (u *ui) addPeer(addr string) {
	ctx, cancel := context.WithTimeout(context.Background(), addPeerTimeout)
	var progress dialog.Dialog
	if u.win != nil {
		bar := widget.NewProgressBarInfinite()
		progress = dialog.NewCustom("Connecting to "+addr+"…", "Cancel", container.NewPadded(bar), u.win)
		progress.SetOnClosed(cancel)
		u.showDialog(progress)
	}
	background(u, func() (string, error) { return u.core.AddPeer(ctx, addr) },
		func(id string, err error) {
			cancel()
			if progress != nil {
				progress.Hide()
			}
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					u.showError("Connecting to "+addr, err)
				}
				return
			}
			u.tabs.SelectIndex(tabPeople)
			u.openPeer(id)
			u.refreshRoster()
		})
}

// refreshRoster re-reads the whole roster from the core.
func (u *ui) refreshRoster() {
	background(u, u.core.Roster, func(peers []node.PeerView, err error) {
		if err != nil {
			return
		}
		for _, p := range peers {
			if p.ID != u.self.ID {
				u.peers[p.ID] = p
			}
		}
		u.peersChanged()
	})
}

// showSettings edits the display name and shows the start-up settings.
func (u *ui) showSettings() {
	if u.win == nil {
		return
	}
	name := newKeyEntry(u)
	name.SetText(u.self.Name)
	name.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New("the name cannot be empty")
		}
		return nil
	}
	ro := func(s string) *widget.Label {
		l := widget.NewLabel(orDash(s))
		l.Wrapping = fyne.TextWrapWord
		l.Selectable = true
		return l
	}
	note := hint("Listener, discovery and team are start-up flags " +
		"(--listen, --discovery, --team-file): restart Parley to change them.")
	dataDir := newDataDirSetting(u)
	items := []*widget.FormItem{
		widget.NewFormItem("Display name", name),
		widget.NewFormItem("Safety number", ro(u.self.Fingerprint)),
		widget.NewFormItem("Peer ID", ro(u.self.ID)),
		widget.NewFormItem("Addresses", ro(selfAddrs(u))),
		widget.NewFormItem("Data folder", dataDir.item),
	}
	if phones := phonesSettingItem(u); phones != nil {
		items = append(items, phones)
	}
	ifaces := newIfaceSettings(u)
	if ifaces != nil {
		items = append(items, ifaces.items()...)
	} else {
		items = append(items, widget.NewFormItem("Interfaces", ro(orDefaultText(strings.Join(u.opts.Ifaces, ", "), "all"))))
	}
	items = append(items,
		widget.NewFormItem("Listener", ro(u.opts.Listen)),
		widget.NewFormItem("Discovery", ro(u.opts.Discovery)),
		widget.NewFormItem("Network", ro(networkText(u.self.Team))),
		widget.NewFormItem("", hint(teamHint)),
		widget.NewFormItem("", note),
	)
	if u.opts.Version != "" {
		items = append(items, widget.NewFormItem("Version", ro(u.opts.Version)))
	}
	var audio *audioSettings
	if u.audio != nil {
		audio = newAudioSettings(u)
		items = append(items[:1], append(audio.items(), items[1:]...)...)
	}
	downloads := newDownloadsSetting(u)
	if downloads != nil {
		items = append(items[:1], append([]*widget.FormItem{downloads.item}, items[1:]...)...)
	}
	sounds := newSoundSettings(u)
	if sounds != nil {
		items = append(items[:1], append(sounds.items(), items[1:]...)...)
	}
	bg := newBackgroundSettings(u)
	items = append(items[:1], append(bg.items(), items[1:]...)...)
	auto := newAutoAcceptSetting(u)
	if auto != nil {
		items = append(items[:1], append([]*widget.FormItem{auto.item()}, items[1:]...)...)
	}
	d := dialog.NewForm("Settings", "Save", "Close", items, func(ok bool) {
		if !ok {
			return
		}
		if strings.TrimSpace(name.Text) != u.self.Name {
			u.setName(strings.TrimSpace(name.Text))
		}
		if audio != nil {
			audio.save()
		}
		if auto != nil {
			auto.save()
		}
		bg.save()
		if sounds != nil {
			sounds.save()
		}
		if downloads != nil {
			downloads.save()
		}
		if ifaces != nil {
			ifaces.save()
		}
		dataDir.save()
	}, u.win)
	name.OnSubmitted = func(string) { d.Submit() }
	d.Resize(fyne.NewSize(640, 600))
	u.showDialog(d)
}

func orDefaultText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func selfAddrs(u *ui) string {
	return strings.Join(u.self.Addrs, "\n")
}

// setName changes the display name in the background.
func (u *ui) setName(name string) {
	background(u, func() (struct{}, error) { return struct{}{}, u.core.SetName(name) },
		func(_ struct{}, err error) {
			if err != nil {
				u.showError("Changing the name", err)
				return
			}
			u.self.Name = name
			u.profile.refresh()
			u.tray.update()
		})
}
