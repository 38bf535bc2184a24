package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// transferCard is one file in the transfers strip: what it is, who it is from
// or for, how far it got, and what can be done with it now (accept or decline
// an offer, cancel a transfer, open a finished file or its folder).
type transferCard struct {
	u      *ui
	t      *transfer
	bg     *tint
	icon   *widget.Icon
	thumb  *canvas.Image
	title  *widget.Label
	detail *widget.Label
	bar    *widget.ProgressBar

	accept, decline, cancel, open, folder, dismiss *widget.Button
	obj                                            *fyne.Container
}

func newTransferCard(u *ui, t *transfer) *transferCard {
	c := &transferCard{u: u, t: t, bg: newTint(theme.ColorNameDisabled, 0x20), icon: widget.NewIcon(theme.FileIcon()),
		title:  widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		detail: widget.NewLabel(""), bar: widget.NewProgressBar(),
	}
	c.title.Truncation = fyne.TextTruncateEllipsis
	c.detail.Truncation = fyne.TextTruncateEllipsis
	c.thumb = canvas.NewImageFromImage(nil)
	c.thumb.FillMode = canvas.ImageFillContain
	c.thumb.ScaleMode = canvas.ImageScaleSmooth
	c.thumb.Hide()
	c.accept = widget.NewButtonWithIcon("Accept", theme.DownloadIcon(), func() { u.acceptFile(c.t) })
	c.accept.Importance = widget.HighImportance
	c.decline = widget.NewButtonWithIcon("Decline", theme.CancelIcon(), func() { u.declineFile(c.t) })
	c.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { u.cancelFile(c.t) })
	c.open = widget.NewButtonWithIcon("Open", theme.FileIcon(), func() { u.openFile(c.t) })
	c.folder = widget.NewButtonWithIcon("Show in folder", theme.FolderOpenIcon(), func() { u.showInFolder(c.t) })
	c.dismiss = widget.NewButtonWithIcon("", theme.WindowCloseIcon(), func() { u.dismiss(c.t) })
	c.dismiss.Importance = widget.LowImportance
	pic := container.NewCenter(container.NewGridWrap(fyne.NewSize(44, 44), container.NewStack(c.icon, c.thumb)))
	buttons := container.NewVBox(layout.NewSpacer(),
		container.NewHBox(c.decline, c.accept, c.cancel, c.open, c.folder, c.dismiss), layout.NewSpacer())
	text := container.New(layout.NewCustomPaddedVBoxLayout(0), c.title, c.detail, c.bar)
	c.obj = container.NewStack(c.bg, container.NewPadded(container.NewBorder(nil, nil, pic, buttons, text)))
	c.refresh()
	return c
}

// refresh draws the card from its transfer.
func (c *transferCard) refresh() {
	t := c.t
	c.title.SetText(t.name)
	c.icon.SetResource(fileIcon(t.mime, t.name))
	if t.thumb != nil {
		c.thumb.Image = t.thumb
		c.thumb.Show()
		c.icon.Hide()
		c.thumb.Refresh()
	} else {
		c.thumb.Hide()
		c.icon.Show()
	}
	c.detail.SetText(c.u.transferDetail(t))
	show := map[*widget.Button]bool{}
	switch t.state {
	case xferOffered:
		show[c.decline], show[c.accept] = !t.out, !t.out
		show[c.cancel] = t.out
	case xferActive:
		show[c.cancel] = true
	case xferDone:
		show[c.open], show[c.folder] = t.path != "", t.path != ""
		show[c.dismiss] = true
	case xferPreparing:
	default:
		show[c.dismiss] = true
	}
	for _, b := range []*widget.Button{c.accept, c.decline, c.cancel, c.open, c.folder, c.dismiss} {
		if show[b] {
			b.Show()
		} else {
			b.Hide()
		}
		enable(b, !t.busy)
	}
	if t.state == xferActive && t.size > 0 {
		c.bar.SetValue(float64(t.bytes) / float64(t.size))
		c.bar.Show()
	} else {
		c.bar.Hide()
	}
	switch t.state {
	case xferOffered:
		if t.out {
			c.bg.SetColour(theme.ColorNameDisabled, 0x20)
		} else {
			c.bg.SetColour(theme.ColorNamePrimary, 0x30)
		}
	case xferFailed:
		c.bg.SetColour(theme.ColorNameError, 0x28)
	case xferDone:
		c.bg.SetColour(theme.ColorNameSuccess, 0x20)
	default:
		c.bg.SetColour(theme.ColorNameDisabled, 0x20)
	}
	c.obj.Refresh()
}

// transferDetail is the card's second line: who, how big, how far, or why not.
func (u *ui) transferDetail(t *transfer) string {
	who := u.peerName(t.peer)
	var parts []string
	switch t.state {
	case xferPreparing:
		return "Checking the file before offering it…"
	case xferOffered:
		switch {
		case !t.out:
			parts = append(parts, "From "+who)
		case t.room != "":
			parts = append(parts, "Offered to #"+u.roomName(t.room))
		default:
			parts = append(parts, "To "+who)
		}
		parts = append(parts, humanSize(t.size))
		if k := kindText(t.mime); k != "" {
			parts = append(parts, k)
		}
		switch {
		case t.out && t.room != "":
			parts = append(parts, "members fetch it from you")
		case t.out:
			parts = append(parts, "waiting for "+who+" to accept")
		}
	case xferActive:
		if t.out && t.room == "" {
			parts = append(parts, "Sending to "+who)
		} else if !t.out {
			parts = append(parts, "From "+who)
		}
		parts = append(parts, progressLine(t))
	case xferDone:
		switch {
		case t.out && t.room != "":
			parts = append(parts, "A member of #"+u.roomName(t.room)+" has it")
		case t.out:
			parts = append(parts, who+" has it")
		default:
			parts = append(parts, "From "+who, humanSize(t.size), "saved in your downloads folder")
		}
	default:
		return t.reason
	}
	return strings.Join(parts, " · ")
}

// fileIcon picks the theme's icon for a file type.
func fileIcon(mime, name string) fyne.Resource {
	kind, _, _ := strings.Cut(mime, "/")
	switch {
	case kind == "image" || isImage(&transfer{name: name}):
		return theme.FileImageIcon()
	case kind == "video":
		return theme.FileVideoIcon()
	case kind == "audio":
		return theme.FileAudioIcon()
	case kind == "text":
		return theme.FileTextIcon()
	}
	return theme.FileIcon()
}
