package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// sipCore is optional: a core that keeps SIP accounts for desk phones and
// softphones (node/devicesaccounts.go, docs/sip.md). Without it Settings has
// no Phones entry.
type sipCore interface {
	SIPAccounts() ([]node.SIPAccountView, error)
	// SetSIPAccount makes an account or changes its password; "" removes it
	// (and unregisters its phone). The node stores the digest's HA1 only.
	SetSIPAccount(user, password string) error
	SIPUnregistered() bool
	SetSIPUnregistered(on bool) error
	// SIPListen is the registrar's address from the next start ("" off).
	SIPListen() string
	SetSIPListen(addr string) error
	// SIPHosts are the hosts phones register to for a registrar address.
	SIPHosts(listen string) []string
}

var _ sipCore = (*node.Node)(nil)

// The node's account rules (node/devicesaccounts.go validSIPUser and
// min/maxSIPPassword), checked here too so the form says what is wrong
// before anything is sent.
const (
	sipUserMax     = 32
	sipPasswordMin = 8
	sipPasswordMax = 128
)

func validSIPUserText(u string) error {
	if u == "" || len(u) > sipUserMax {
		return fmt.Errorf("1 to %d characters", sipUserMax)
	}
	for i, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("._-", r)) {
			return errors.New("only a-z 0-9 . _ - (starting with a letter or digit)")
		}
	}
	return nil
}

func validSIPPasswordText(p string) error {
	if len(p) < sipPasswordMin || len(p) > sipPasswordMax {
		return fmt.Errorf("%d to %d characters", sipPasswordMin, sipPasswordMax)
	}
	return nil
}

// phonesView is the "Phones (SIP)" dialog: the registrar's switch and address,
// whether unregistered phones may call, and the accounts with their
// registration, Copy address, Password… and Remove. Accounts and the
// unregistered switch apply at once; the registrar address from the next start.
type phonesView struct {
	u    *ui
	core sipCore
	on   *widget.Check
	addr *widget.Entry
	save *widget.Button
	// status says what runs now and what the next start will do.
	status *widget.Label
	unreg  *widget.Check
	user   *widget.Entry
	pass   *widget.Entry
	add    *widget.Button
	list   *fyne.Container
	rows   map[string]*phoneRow // by account, for tests
	hosts  []string             // where phones register, "user@" + hosts[0]
	loaded bool                 // the first account list is in
	obj    fyne.CanvasObject
	dlg    dialog.Dialog
	// The open password form and its entry (tests fill and submit them).
	pwForm  *dialog.FormDialog
	pwEntry *widget.Entry
}

// phoneRow is one account in the dialog.
type phoneRow struct {
	state, address         *widget.Label
	copyAddr, pass, remove *widget.Button
}

// phonesSettingItem is the Settings form's "Phones (SIP)" line: what runs now
// and a button to the dialog; nil without SIP accounts in the core.
func phonesSettingItem(u *ui) *widget.FormItem {
	if _, ok := u.core.(sipCore); !ok {
		return nil
	}
	now := "Off"
	if u.opts.SIPAddr != "" {
		now = "Running on " + u.opts.SIPAddr
	}
	return widget.NewFormItem("Phones (SIP)", container.NewBorder(nil, nil, nil,
		widget.NewButton("Phones…", u.showPhones), widget.NewLabel(now)))
}

// showPhones opens the Phones (SIP) dialog.
func (u *ui) showPhones() {
	c, ok := u.core.(sipCore)
	if !ok {
		return
	}
	v := &phonesView{u: u, core: c, rows: map[string]*phoneRow{}}
	u.phones = v
	v.build()
	v.load(true)
	if u.win == nil {
		return
	}
	d := dialog.NewCustom("Phones (SIP)", "Close", container.NewVScroll(v.obj), u.win)
	d.Resize(fyne.NewSize(640, 640))
	v.dlg = d
	u.showDialog(d)
}

// peerMoved re-reads the accounts while the dialog is open when a phone came
// or went (its registration is what the rows show).
func (v *phonesView) peerMoved(p node.PeerView) {
	if v == nil || !p.SIP || v.dlg == nil || !slices.Contains(v.u.dialogs, v.dlg) {
		return
	}
	v.load(false)
}

func (v *phonesView) build() {
	v.on = widget.NewCheck("Let SIP phones register with this computer", func(bool) { v.dirty() })
	v.addr = widget.NewEntry()
	v.addr.SetPlaceHolder(node.DefaultSIPAddr)
	v.addr.OnChanged = func(string) { v.dirty() }
	v.save = widget.NewButton("Save", v.saveListen)
	v.save.Disable()
	v.status = hint("")
	v.unreg = widget.NewCheck("Accept calls from phones that did not register", nil)
	v.user = widget.NewEntry()
	v.user.SetPlaceHolder("e.g. radio1")
	v.user.Validator = validSIPUserText
	v.pass = widget.NewPasswordEntry()
	v.pass.SetPlaceHolder(fmt.Sprintf("at least %d characters", sipPasswordMin))
	v.pass.Validator = validSIPPasswordText
	v.add = widget.NewButton("Add account", v.addAccount)
	v.list = container.NewVBox()
	refresh := widget.NewButton("Refresh", func() { v.load(false) })
	form := widget.NewForm(
		widget.NewFormItem("Address", container.NewBorder(nil, nil, nil, v.save, v.addr)),
		widget.NewFormItem("", v.status))
	addForm := widget.NewForm(
		widget.NewFormItem("User", v.user),
		widget.NewFormItem("Password", v.pass),
		widget.NewFormItem("", v.add))
	v.obj = container.NewVBox(
		v.on, form, v.unreg,
		hint("A phone calling sip:<name>@this computer without an account is refused unless this is on."),
		widget.NewSeparator(),
		container.NewBorder(nil, nil, widget.NewLabelWithStyle("Accounts", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), refresh),
		v.list,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Add an account", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		addForm,
		hint("Only the digest of the password is kept (what phones' digest sign-in needs), never the password."))
}

// phonesFacts is what the dialog reads from the core.
type phonesFacts struct {
	listen string
	unreg  bool
	accts  []node.SIPAccountView
	hosts  []string
}

// load reads the accounts (and, the first time, the settings) in the background.
func (v *phonesView) load(first bool) {
	c := v.core
	background(v.u, func() (phonesFacts, error) {
		f := phonesFacts{listen: c.SIPListen(), unreg: c.SIPUnregistered()}
		where := v.u.opts.SIPAddr // phones register where the registrar runs now
		if where == "" {
			where = f.listen
		}
		if where == "" {
			where = node.DefaultSIPAddr
		}
		f.hosts = c.SIPHosts(where)
		var err error
		f.accts, err = c.SIPAccounts()
		return f, err
	}, func(f phonesFacts, err error) {
		if first {
			v.on.SetChecked(f.listen != "")
			v.addr.SetText(orDefaultText(f.listen, node.DefaultSIPAddr))
			v.unreg.SetChecked(f.unreg)
			v.unreg.OnChanged = v.setUnregistered
			v.save.Disable()
			v.showStatus(f.listen, nil)
		}
		v.hosts = f.hosts
		v.setAccounts(f.accts, err)
		v.loaded = true
	})
}

// dirty enables Save once the switch or address differ from what is shown.
func (v *phonesView) dirty() {
	if v.save != nil {
		v.save.Enable()
	}
}

// showStatus says what runs now and what the next start does with listen.
func (v *phonesView) showStatus(listen string, err error) {
	if err != nil {
		v.status.SetText("Not saved: " + err.Error())
		return
	}
	now := "Not running now."
	if a := v.u.opts.SIPAddr; a != "" {
		now = "Running now on " + a + "."
	}
	next := "From Parley's next start: off."
	switch {
	case v.u.opts.SIPByFlag:
		next = "Started by --sip: the setting applies from a start without that flag."
	case listen != "":
		next = "From Parley's next start: on " + listen + " (UDP and TCP)."
	}
	v.status.SetText(now + " " + next)
}

// saveListen stores the switch and address for the next start.
func (v *phonesView) saveListen() {
	addr := ""
	if v.on.Checked {
		addr = strings.TrimSpace(v.addr.Text)
		if addr == "" {
			addr = node.DefaultSIPAddr
		}
	}
	v.save.Disable()
	c := v.core
	background(v.u, func() (struct{}, error) { return struct{}{}, c.SetSIPListen(addr) },
		func(_ struct{}, err error) {
			if err != nil {
				v.save.Enable()
			}
			v.showStatus(addr, err)
		})
}

func (v *phonesView) setUnregistered(on bool) {
	c := v.core
	background(v.u, func() (struct{}, error) { return struct{}{}, c.SetSIPUnregistered(on) },
		func(_ struct{}, err error) { v.u.showError("Changing who may call", err) })
}

// address is where the phone of account user registers ("user@host"), or ""
// when this computer has no LAN address.
func (v *phonesView) address(user string) string {
	if len(v.hosts) == 0 {
		return ""
	}
	return user + "@" + v.hosts[0]
}

// setAccounts shows the accounts, one row each.
func (v *phonesView) setAccounts(accts []node.SIPAccountView, err error) {
	v.list.RemoveAll()
	clear(v.rows)
	if err != nil {
		v.list.Add(hint("The accounts could not be read: " + err.Error()))
		return
	}
	if len(accts) == 0 {
		v.list.Add(hint("No accounts yet. Add one below, then sign the phone in with its user and password."))
	}
	for _, a := range accts {
		r := &phoneRow{state: widget.NewLabel(registrationText(a)), address: widget.NewLabel(v.address(a.User))}
		r.state.Truncation = fyne.TextTruncateEllipsis
		r.address.Selectable = true
		user := a.User
		r.copyAddr = widget.NewButton("Copy", func() { fyne.CurrentApp().Clipboard().SetContent(v.address(user)) })
		if r.address.Text == "" {
			r.address.SetText("(no LAN address)")
			r.copyAddr.Disable()
		}
		r.pass = widget.NewButton("Password…", func() { v.changePassword(user) })
		r.remove = widget.NewButton("Remove", func() { v.removeAccount(user) })
		v.rows[user] = r
		name := widget.NewLabelWithStyle(user, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		// Two lines: who and their registration, then where the phone registers.
		v.list.Add(container.NewBorder(nil, nil, nil, container.NewCenter(container.NewHBox(r.copyAddr, r.pass, r.remove)),
			container.NewVBox(container.NewBorder(nil, nil, name, nil, r.state), r.address)))
	}
	if len(v.hosts) > 1 {
		v.list.Add(hint("This computer is also reachable at " + strings.Join(v.hosts[1:], ", ") + "."))
	}
	v.list.Refresh()
}

// registrationText is an account's registration for its row.
func registrationText(a node.SIPAccountView) string {
	if !a.Registered {
		return "not registered"
	}
	s := "registered"
	if a.Contact != "" {
		s += " from " + a.Contact
	}
	if a.Expires != nil {
		s += " until " + a.Expires.Local().Format(time.Kitchen)
	}
	return s
}

// addAccount makes the account typed in the form.
func (v *phonesView) addAccount() {
	user, pass := strings.TrimSpace(v.user.Text), v.pass.Text
	if err := errors.Join(validSIPUserText(user), validSIPPasswordText(pass)); err != nil {
		v.user.Validate()
		v.pass.Validate()
		return
	}
	if _, taken := v.rows[user]; taken {
		v.u.showError("Adding "+user, errors.New("that account exists: change its password in its row"))
		return
	}
	v.add.Disable()
	c := v.core
	background(v.u, func() (struct{}, error) { return struct{}{}, c.SetSIPAccount(user, pass) },
		func(_ struct{}, err error) {
			v.add.Enable()
			if err != nil {
				v.u.showError("Adding "+user, err)
				return
			}
			v.user.SetText("")
			v.pass.SetText("")
			v.load(false)
		})
}

// changePassword asks for a new password for user.
func (v *phonesView) changePassword(user string) {
	pass := widget.NewPasswordEntry()
	pass.Validator = validSIPPasswordText
	c := v.core
	d := dialog.NewForm("New password for "+user, "Change", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Password", pass),
			widget.NewFormItem("", hint("The phone signs in with the new one from its next registration."))},
		func(ok bool) {
			if !ok {
				return
			}
			p := pass.Text
			background(v.u, func() (struct{}, error) { return struct{}{}, c.SetSIPAccount(user, p) },
				func(_ struct{}, err error) { v.u.showError("Changing the password of "+user, err) })
		}, v.u.win)
	v.pwForm, v.pwEntry = d, pass
	v.u.showDialog(d)
}

// removeAccount removes user after asking; its phone is unregistered.
func (v *phonesView) removeAccount(user string) {
	c := v.core
	msg := widget.NewLabel("Its phone is signed out and can no longer register or call.")
	d := dialog.NewCustomConfirm("Remove "+user+"?", "Remove account", "Cancel", msg, func(ok bool) {
		if !ok {
			return
		}
		background(v.u, func() (struct{}, error) { return struct{}{}, c.SetSIPAccount(user, "") },
			func(_ struct{}, err error) {
				if err != nil {
					v.u.showError("Removing "+user, err)
					return
				}
				v.load(false)
			})
	}, v.u.win)
	v.u.showDialog(d)
}
