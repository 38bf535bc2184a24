package app

import (
	"net/url"
	"regexp"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// Links in messages: http and https addresses only (what a browser opens; a
// file: or javascript: address in someone's message is not something to open
// with a click). A link ends at white space; punctuation that usually ends
// the sentence around it is not part of it.
var linkRE = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"]+`)

// maxLinkMenu bounds the links a message's menu lists.
const maxLinkMenu = 5

// linkSpans are the byte ranges of the links in s.
func linkSpans(s string) [][2]int {
	var out [][2]int
	for _, m := range linkRE.FindAllStringIndex(s, -1) {
		end := m[1]
		for end > m[0] {
			c := s[end-1]
			if strings.IndexByte(".,;:!?'", c) >= 0 || c == ')' && strings.Count(s[m[0]:end], "(") < strings.Count(s[m[0]:end], ")") {
				end--
				continue
			}
			break
		}
		if u, err := url.Parse(s[m[0]:end]); err == nil && u.Host != "" {
			out = append(out, [2]int{m[0], end})
		}
	}
	return out
}

// links are the link addresses in text, in order, each once.
func links(text string) []string {
	var out []string
	for _, sp := range linkSpans(text) {
		l := text[sp[0]:sp[1]]
		dup := false
		for _, o := range out {
			dup = dup || o == l
		}
		if !dup {
			out = append(out, l)
		}
	}
	return out
}

// linkAt finds the whole link (from the message's text) that the part of
// a wrapped line starting at part begins or continues: wrapText breaks a long
// address over lines, and a click on any piece of it opens all of it.
func linkAt(text, part string) string {
	for _, l := range links(text) {
		if strings.Contains(l, part) {
			return l
		}
	}
	return part
}

// openLink hands a link to the desktop's browser.
func (u *ui) openLink(link string) {
	l, err := url.Parse(link)
	if err != nil || (l.Scheme != "http" && l.Scheme != "https") {
		return
	}
	if err := u.openURL(l); err != nil {
		u.showError("Opening "+link, err)
	}
}

// showText shows a message's text where it can be selected and copied in
// part (the bubbles draw text, which cannot be selected).
func (u *ui) showText(text string) {
	if u.win == nil {
		return
	}
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Selectable = true
	scroll := container.NewVScroll(l)
	scroll.SetMinSize(fyne.NewSize(460, 160))
	d := dialog.NewCustom("Message", "Close", scroll, u.win)
	d.Resize(fyne.NewSize(520, 320))
	u.showDialog(d)
}
