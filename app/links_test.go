package app

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/node"
)

func TestLinks(t *testing.T) {
	for text, want := range map[string][]string{
		"see https://example.com/a?b=1.":                                     {"https://example.com/a?b=1"},
		"(https://en.wikipedia.org/wiki/Foo_(bar))":                          {"https://en.wikipedia.org/wiki/Foo_(bar)"},
		"HTTP://Example.org, and http://x.io/!":                              {"HTTP://Example.org", "http://x.io/"},
		"twice https://a.b https://a.b":                                      {"https://a.b"},
		"ftp://x.org file:///etc/passwd javascript:alert(1) http:// nothing": nil,
		"<https://x.org/p>":                                                  {"https://x.org/p"},
	} {
		if got := links(text); !slices.Equal(got, want) {
			t.Errorf("links(%q) = %q, want %q", text, got, want)
		}
	}
}

// linkHarness opens Alice's conversation with a message holding a link.
func linkHarness(t *testing.T, text string) (*harness, *[]string) {
	t.Helper()
	fc := fivePeers()
	fc.addHistory(node.DirectConv(aliceID), node.Message{ID: "l1", Conv: node.DirectConv(aliceID), From: aliceID,
		To: selfID, Text: text, Time: time.Now(), State: node.StateRead})
	h := newHarness(t, fc)
	var opened []string
	h.u.openURL = func(l *url.URL) error { opened = append(opened, l.String()); return nil }
	h.openPeer(aliceID)
	h.win.Canvas().Refresh(h.u.conv.list)
	return h, &opened
}

// A link in a message is drawn as one and a click on it opens it; a click
// on the text beside it opens nothing.
func TestLinkInABubbleOpens(t *testing.T) {
	text := "Docs at https://example.org/guide, see you"
	h, opened := linkHarness(t, text)
	r := h.bubbleFor(text)
	if r == nil {
		t.Fatal("no bubble")
	}
	if len(r.linkBoxes) != 1 || r.linkBoxes[0].link != "https://example.org/guide" {
		t.Fatalf("link boxes %+v", r.linkBoxes)
	}
	b := r.linkBoxes[0]
	test.TapAt(r, fyne.NewPos(b.pos.X-20, b.pos.Y+b.size.Height/2)) // "at"
	if len(*opened) != 0 {
		t.Fatalf("a click beside the link opened %q", *opened)
	}
	test.TapAt(r, fyne.NewPos(b.pos.X+b.size.Width/2, b.pos.Y+b.size.Height/2))
	if !slices.Equal(*opened, []string{"https://example.org/guide"}) {
		t.Fatalf("opened %q", *opened)
	}
	// The link piece is drawn in the link colour, the rest is not.
	var linkColoured, plain bool
	walk(r, func(o fyne.CanvasObject) {
		if tx, ok := o.(*canvas.Text); ok {
			switch tx.Text {
			case "https://example.org/guide":
				linkColoured = tx.Color == theme.Color(theme.ColorNameHyperlink)
			case "Docs at ":
				plain = tx.Color != theme.Color(theme.ColorNameHyperlink)
			}
		}
	})
	if !linkColoured || !plain {
		t.Errorf("pieces: link %v, plain %v", linkColoured, plain)
	}
}

// An address too long for one line is broken over several; a click on any
// piece opens all of it.
func TestLongLinkOverLines(t *testing.T) {
	long := "https://example.org/" + strings.Repeat("abcdefghij", 12)
	h, opened := linkHarness(t, "look: "+long)
	r := h.bubbleFor("look: " + long)
	if r == nil || len(r.linkBoxes) < 2 {
		t.Fatalf("link boxes of a long link: %+v", r.linkBoxes)
	}
	last := r.linkBoxes[len(r.linkBoxes)-1]
	test.TapAt(r, fyne.NewPos(last.pos.X+2, last.pos.Y+last.size.Height/2))
	if !slices.Equal(*opened, []string{long}) {
		t.Fatalf("opened %q", *opened)
	}
}

// "Select text…" shows the text in a label that can be selected.
func TestSelectText(t *testing.T) {
	h, _ := linkHarness(t, "copy part of this")
	h.u.showText("copy part of this")
	var found *widget.Label
	h.everything(func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Text == "copy part of this" {
			found = l
		}
	})
	if found == nil || !found.Selectable {
		t.Fatal("no selectable text")
	}
}

// FuzzLinkSpans: a message is anyone's text; its link spans are in bounds, in
// order, apart, and each an http or https address with a host.
func FuzzLinkSpans(f *testing.F) {
	for _, s := range []string{"see https://a.b/c.", "(http://x.org/a_(b))", "https://", "http://[::1", "HTTPS://X.Y/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		end := 0
		for _, sp := range linkSpans(s) {
			if sp[0] < end || sp[1] <= sp[0] || sp[1] > len(s) {
				t.Fatalf("%q: span %v after %d", s, sp, end)
			}
			end = sp[1]
			u, err := url.Parse(s[sp[0]:sp[1]])
			if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
				t.Fatalf("%q: span %q is not a web address", s, s[sp[0]:sp[1]])
			}
		}
	})
}
