package node

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestEventTypesListEveryEvent reads this package's source for every type with
// an EventName method and fails when EventTypes leaves one out, lists one
// twice, or two types share a name.
func TestEventTypesListEveryEvent(t *testing.T) {
	var declared []string
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
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
			if !ok || fn.Recv == nil || fn.Name.Name != "EventName" {
				continue
			}
			if id, ok := fn.Recv.List[0].Type.(*ast.Ident); ok {
				declared = append(declared, id.Name)
			} else {
				t.Errorf("%s: EventName on a pointer receiver; events are values", fset.Position(fn.Pos()))
			}
		}
	}
	if len(declared) < 10 {
		t.Fatalf("found only %d event types in the source: %v", len(declared), declared)
	}
	var listed []string
	names := map[string]string{}
	for _, e := range EventTypes() {
		typ := reflect.TypeOf(e).Name()
		if slices.Contains(listed, typ) {
			t.Errorf("EventTypes lists %s twice", typ)
		}
		listed = append(listed, typ)
		if other, dup := names[e.EventName()]; dup {
			t.Errorf("%s and %s are both named %q", other, typ, e.EventName())
		}
		names[e.EventName()] = typ
	}
	for _, typ := range declared {
		if !slices.Contains(listed, typ) {
			t.Errorf("%s has an EventName method but is not in EventTypes", typ)
		}
	}
}
