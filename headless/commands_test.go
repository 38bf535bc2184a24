package headless

import "testing"

// TestCommandTable checks every entry is complete: a reply event, a run (quit
// aside), and only known field names in need (field panics on others).
func TestCommandTable(t *testing.T) {
	all := Command{To: "x", Text: "x", Status: "x", Addr: "x", Name: "x", Room: "x", Peer: "x", Call: "x", ID: "x", Guest: "x", User: "x", Digits: "x"}
	for name, e := range commands {
		if e.reply == "" {
			t.Errorf("%s: no reply event", name)
		}
		if (e.run == nil) != e.quit {
			t.Errorf("%s: run %v, quit %v", name, e.run != nil, e.quit)
		}
		for _, f := range e.need {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: %v", name, r)
					}
				}()
				if all.field(f) == "" {
					t.Errorf("%s: field %q reads empty", name, f)
				}
			}()
		}
	}
}
