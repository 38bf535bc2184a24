package headless

import (
	"os"
	"parley/node"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docsPath is the protocol reference the tables below are checked against.
const docsPath = "../docs/headless.md"

// TestDocsCommandTable checks docs/headless.md's command table against the
// command table: every command documented exists, every command is documented,
// and each row's reply (the first `name` of its reply cell) is the event the
// code answers with.
func TestDocsCommandTable(t *testing.T) {
	rows := docTable(t, "Commands")
	cmdName := regexp.MustCompile(`"cmd":"([^"]*)"`)
	documented := map[string]string{} // command → documented reply
	for _, cells := range rows {
		if len(cells) < 2 {
			t.Errorf("command row with %d cells: %q", len(cells), cells)
			continue
		}
		var names []string
		for _, m := range cmdName.FindAllStringSubmatch(cells[0], -1) {
			if !slices.Contains(names, m[1]) {
				names = append(names, m[1])
			}
		}
		if len(names) != 1 {
			t.Errorf("command row names %d commands, want 1: %s", len(names), cells[0])
			continue
		}
		name := names[0]
		if _, dup := documented[name]; dup {
			t.Errorf("command %q has two rows", name)
		}
		documented[name] = firstCode(cells[1])
	}
	for name, reply := range documented {
		e, ok := commands[name]
		if !ok {
			t.Errorf("%s documents command %q, which the code does not have", docsPath, name)
			continue
		}
		if reply != e.reply {
			t.Errorf("%s: command %q replies %q, the code replies %q", docsPath, name, reply, e.reply)
		}
	}
	for name := range commands {
		if _, ok := documented[name]; !ok {
			t.Errorf("command %q is missing from %s", name, docsPath)
		}
	}
}

// TestDocsEventTable checks docs/headless.md's event table against the events
// the node emits: the EventName methods in package node.
func TestDocsEventTable(t *testing.T) {
	var documented []string
	for _, cells := range docTable(t, "Events") {
		name := firstCode(cells[0])
		if name == "" || slices.Contains(documented, name) {
			t.Errorf("event row without a name, or a second row for it: %q", cells)
			continue
		}
		documented = append(documented, name)
	}
	emitted := node.EventNames()
	// Guards against a parse that finds nothing and so checks nothing.
	if len(emitted) < 10 {
		t.Fatalf("found only %d event names in package node: %v", len(emitted), emitted)
	}
	for _, name := range documented {
		if !slices.Contains(emitted, name) {
			t.Errorf("%s documents event %q, which the node does not emit", docsPath, name)
		}
	}
	for _, name := range emitted {
		if !slices.Contains(documented, name) {
			t.Errorf("event %q is missing from %s", name, docsPath)
		}
	}
}

// docTable returns the cells of the table rows under the "## <section>" heading
// (up to the next "## " heading), header and rule rows left out.
func docTable(t *testing.T, section string) [][]string {
	t.Helper()
	raw, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	in := false
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.TrimSpace(line[3:]) == section
			continue
		}
		if !in || !strings.HasPrefix(line, "|") {
			continue
		}
		cells := splitRow(line)
		if len(cells) == 0 || strings.HasPrefix(cells[0], "---") || !strings.HasPrefix(cells[0], "`") {
			continue // the header or the rule under it
		}
		rows = append(rows, cells)
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no table under ## %s", docsPath, section)
	}
	return rows
}

// splitRow splits a Markdown table row at the pipes that are not escaped (\|).
func splitRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	var cells []string
	var cell strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cell.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

// firstCode returns the text of the first `code span` of a cell.
func firstCode(cell string) string {
	_, rest, ok := strings.Cut(cell, "`")
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(rest, "`")
	return code
}
