package app

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

// detailsView shows what is known about one peer: safety number, addresses, link
// quality, and a warning when another key uses the same display name.
type detailsView struct {
	u           *ui
	id          string
	name        *widget.Label
	peerID      *widget.Label
	fingerprint *widget.Label
	presence    *widget.Label
	addrs       *widget.Label
	link        *widget.Label
	published   *widget.Label
	warning     *widget.Label
	guest       *widget.Label // who hosts a browser guest (guestbadge.go)
	verified    *widget.Check
	block       *widget.Button
	setting     bool // refresh is setting the check: not the user's doing
	links       []node.Link
	linksLoaded bool
	obj         fyne.CanvasObject
}

func newDetailsView(u *ui, id string) *detailsView {
	l := func() *widget.Label {
		w := widget.NewLabel("")
		w.Wrapping = fyne.TextWrapWord
		w.Selectable = true
		return w
	}
	d := &detailsView{u: u, id: id, name: l(), peerID: l(), fingerprint: l(), presence: l(),
		addrs: l(), link: l(), published: l(), warning: widget.NewLabel(""), guest: l()}
	d.name.TextStyle.Bold = true
	d.fingerprint.TextStyle.Monospace = true
	d.peerID.TextStyle.Monospace = true
	d.warning.Importance = widget.WarningImportance
	d.warning.Wrapping = fyne.TextWrapWord
	d.warning.Hide()
	key := func(s string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(s, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	}
	d.verified = widget.NewCheck("Verified — the numbers match", func(on bool) {
		if !d.setting {
			u.setVerified(d.id, on)
		}
	})
	d.block = widget.NewButton("Block…", func() { u.confirmBlock(d.id) })
	howTo := widget.NewLabel("Compare this number with the one " + u.peerName(id) + " sees in their Settings, " +
		"in person or by phone (not by a message here: an impostor could answer it). Tick the box only if every digit matches.")
	howTo.Wrapping = fyne.TextWrapWord
	howTo.SizeName = theme.SizeNameCaptionText // secondary, but in the normal colour: it must stay readable
	copyFP := widget.NewButton("Copy", func() {
		fyne.CurrentApp().Clipboard().SetContent(d.fingerprint.Text)
	})
	refresh := widget.NewButton("Measure again", d.loadLinks)
	form := container.New(layout.NewFormLayout(),
		key("Name"), d.name,
		key("Safety number"), container.NewBorder(nil, nil, nil, copyFP, d.fingerprint),
		key(""), container.NewVBox(d.verified, howTo),
		key("Peer ID"), d.peerID,
		key("Presence"), d.presence,
		key("Addresses"), d.addrs,
		key("Link"), d.link,
		key("Published"), d.published,
	)
	// Block stays in view below the scrolling facts: it is the one action here.
	d.obj = container.NewBorder(nil, container.NewHBox(d.block, layout.NewSpacer(), refresh), nil, nil,
		container.NewVScroll(container.NewVBox(d.warning, d.guest, form)))
	return d
}

// showPeerDetails opens the details dialog of a peer.
func (u *ui) showPeerDetails(id string) {
	if id == "" {
		return
	}
	d := newDetailsView(u, id)
	u.details = d
	d.refresh()
	d.loadLinks()
	if u.win == nil {
		return
	}
	dlg := dialog.NewCustom("Peer details", "Close", d.obj, u.win)
	dlg.SetOnClosed(func() {
		if u.details == d {
			u.details = nil
		}
	})
	dlg.Resize(fyne.NewSize(620, 480))
	u.showDialog(dlg)
}

// loadLinks asks the core for the current link measurements.
func (d *detailsView) loadLinks() {
	background(d.u, func() ([]node.Link, error) { return d.u.core.Links(), nil },
		func(links []node.Link, _ error) {
			d.links, d.linksLoaded = links, true
			d.refresh()
		})
}

func (d *detailsView) refresh() {
	p, ok := d.u.peers[d.id]
	if !ok {
		p = node.PeerView{ID: d.id, Presence: node.PresenceOffline}
	}
	d.name.SetText(d.u.peerName(d.id))
	d.peerID.SetText(p.ID)
	d.fingerprint.SetText(orDash(p.Fingerprint))
	d.presence.SetText(peerSubtitle(p))
	d.addrs.SetText(orDash(strings.Join(p.Addrs, "\n")))
	d.link.SetText(d.linkText(p))
	d.published.SetText(d.publishedText(p))
	d.u.showTrustWarning(d.warning, d.id)
	if t := d.u.guestText(p); t != "" {
		d.guest.SetText(t)
		d.guest.Show()
	} else {
		d.guest.Hide()
	}
	d.setting = true
	d.verified.SetChecked(p.Verified)
	d.setting = false
	busy := d.u.trustBusy[d.id]
	enable(d.verified, !busy && p.Fingerprint != "" && !p.Blocked)
	if p.Blocked {
		d.block.SetText("Unblock…")
		d.block.Importance = widget.MediumImportance
	} else {
		d.block.SetText("Block…")
		d.block.Importance = widget.DangerImportance
	}
	d.block.Refresh()
	enable(d.block, !busy)
}

func (d *detailsView) linkText(p node.PeerView) string {
	for _, l := range d.links {
		if l.Peer != d.id {
			continue
		}
		q := l.Quality
		dir := "inbound"
		if l.Outbound {
			dir = "outbound"
		}
		return fmt.Sprintf("direct (%s, %s), up since %s\nRTT %s ± %s (min %s), jitter %s\nping loss %.1f %% (%d of %d lost)",
			dir, l.Remote, l.Since.Local().Format("2 Jan 15:04"), us(q.SRTTus), us(q.RTTVarUs), us(q.MinRTTus), us(q.JitterUs),
			q.Loss*100, q.Lost, q.Sent)
	}
	switch {
	case !p.Online:
		return "none (offline)"
	case p.Direct && p.RTTMicros > 0:
		return "direct, RTT " + ms(time.Duration(p.RTTMicros)*time.Microsecond)
	case !d.linksLoaded:
		return "measuring…"
	}
	return "no direct link — messages travel through other peers (sealed end to end)"
}

func (d *detailsView) publishedText(p node.PeerView) string {
	q := p.Quality
	if q == nil {
		return "—"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "power %s, %s, CPU %.0f %%, relaying %d sessions", q.Power, q.LinkType, q.CPULoad*100, q.RelaySessions)
	links := slices.Clone(q.Links)
	slices.SortFunc(links, func(a, b node.PublishedLink) int { return int(a.RTTus - b.RTTus) })
	for _, l := range links {
		fmt.Fprintf(&b, "\n→ %s: RTT %s, jitter %s, loss %.1f %%", d.u.peerName(l.Peer),
			ms(time.Duration(l.RTTus)*time.Microsecond), ms(time.Duration(l.JitterUs)*time.Microsecond), l.Loss*100)
	}
	return b.String()
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// us shows a count of microseconds (the unit of node.LinkQuality) as ms.
func us(n int64) string { return ms(time.Duration(n) * time.Microsecond) }

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
