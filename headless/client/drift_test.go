package client

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestCommandsMatchHeadless fails when a command is added to the headless
// command table without a client method, or the other way round, or when the
// two disagree on the event that answers it. It reads the table from
// headless's source: the client must not import headless (and its core).
func TestCommandsMatchHeadless(t *testing.T) {
	table := headlessCommands(t)
	// Guards against a parse that finds nothing and so checks nothing.
	if len(table) < 20 {
		t.Fatalf("found only %d commands in headless's table: %v", len(table), table)
	}
	ct := reflect.TypeOf(&Client{})
	for name, reply := range table {
		c, ok := commands[name]
		if !ok {
			t.Errorf("headless command %q has no client method (add it to commands.go)", name)
			continue
		}
		if c.reply != reply {
			t.Errorf("command %q: headless answers %q, the client waits for %q", name, reply, c.reply)
		}
		if _, ok := ct.MethodByName(c.method); !ok {
			t.Errorf("command %q: the client has no method %s", name, c.method)
		}
	}
	for name := range commands {
		if _, ok := table[name]; !ok {
			t.Errorf("client command %q is not in headless's table", name)
		}
	}
}

// headlessCommands reads `var commands = map[string]command{…}` in package
// headless: command name → the "reply" field of its entry.
func headlessCommands(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob("../*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var table *ast.CompositeLit
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "commands" || len(vs.Values) != 1 {
				return true
			}
			if lit, ok := vs.Values[0].(*ast.CompositeLit); ok {
				table = lit
			}
			return false
		})
	}
	if table == nil {
		t.Fatal("no `var commands = map[string]command{…}` in package headless")
	}
	out := map[string]string{}
	for _, elt := range table.Elts {
		kv, ok := elt.(*ast.KeyValueExpr)
		if !ok {
			t.Fatalf("%s: table entry is not key: value", fset.Position(elt.Pos()))
		}
		name := stringLit(t, fset, kv.Key)
		entry, ok := kv.Value.(*ast.CompositeLit)
		if !ok {
			t.Fatalf("%s: entry %q is not a composite literal", fset.Position(kv.Pos()), name)
		}
		reply := ""
		for _, f := range entry.Elts {
			if fkv, ok := f.(*ast.KeyValueExpr); ok {
				if id, ok := fkv.Key.(*ast.Ident); ok && id.Name == "reply" {
					reply = stringLit(t, fset, fkv.Value)
				}
			}
		}
		if reply == "" {
			t.Fatalf("%s: entry %q names no reply", fset.Position(kv.Pos()), name)
		}
		out[name] = reply
	}
	return out
}

func stringLit(t *testing.T, fset *token.FileSet, e ast.Expr) string {
	t.Helper()
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		t.Fatalf("%s: not a string literal", fset.Position(e.Pos()))
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDecodeEveryNodeEvent fails when package node gains an event that Decode
// does not know, or Decode maps a name to a type that reports another name.
func TestDecodeEveryNodeEvent(t *testing.T) {
	names := nodeEventNames(t)
	if len(names) < 10 {
		t.Fatalf("found only %d event names in package node: %v", len(names), names)
	}
	for _, name := range names {
		if _, ok := events[name]; !ok {
			t.Errorf("node event %q is not decoded by the client (add it to decode.go)", name)
			continue
		}
		ev, err := Decode([]byte(`{"event":` + strconv.Quote(name) + `}`))
		if err != nil {
			t.Errorf("Decode(%q): %v", name, err)
			continue
		}
		if _, isReply := ev.(Reply); isReply || ev.EventName() != name {
			t.Errorf("Decode(%q) gives %T named %q", name, ev, ev.EventName())
		}
	}
	for name := range events {
		if !contains(names, name) {
			t.Errorf("the client decodes %q, which package node does not emit", name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// nodeEventNames reads package node's source for every
// `func (T) EventName() string { return "<name>" }`.
func nodeEventNames(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("../../node/*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "EventName" || fn.Body == nil || len(fn.Body.List) != 1 {
				continue
			}
			ret, ok := fn.Body.List[0].(*ast.ReturnStmt)
			if !ok || len(ret.Results) != 1 {
				t.Fatalf("%s: EventName does not return one value", fset.Position(fn.Pos()))
			}
			name := stringLit(t, fset, ret.Results[0])
			if !contains(names, name) {
				names = append(names, name)
			}
		}
	}
	return names
}
