package node

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var updateProtocol = flag.Bool("update-protocol", false, "rewrite testdata/protocol.golden from the code")

// TestProtocolFields pins the headless protocol's field names and Go types: every
// JSON-tagged field of every struct in this package (the view types and events
// the skins get) is one line of testdata/protocol.golden. A renamed, retyped,
// added or removed field fails here; if the change is meant, run
// go test ./node/ -run TestProtocolFields -update-protocol and update docs/headless.md.
func TestProtocolFields(t *testing.T) {
	got := strings.Join(protocolFields(t), "\n") + "\n"
	const golden = "testdata/protocol.golden"
	if *updateProtocol {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for _, l := range w {
			if l != "" && !slices.Contains(g, l) {
				t.Errorf("gone or changed: %s", l)
			}
		}
		for _, l := range g {
			if l != "" && !slices.Contains(w, l) {
				t.Errorf("new or changed:  %s", l)
			}
		}
		t.Error("the protocol's fields changed (-update-protocol rewrites the golden if that is meant)")
	}
}

// protocolFields lists "Type.Field json:tag GoType" for every JSON-tagged field of
// the package's non-test files, sorted.
func protocolFields(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fl := range st.Fields.List {
				if fl.Tag == nil {
					continue
				}
				tag, err := strconv.Unquote(fl.Tag.Value)
				if err != nil {
					t.Fatal(err)
				}
				j, ok := reflect.StructTag(tag).Lookup("json")
				if !ok {
					continue
				}
				for _, id := range fl.Names {
					out = append(out, fmt.Sprintf("%s.%s json:%q %s", ts.Name.Name, id.Name, j, types.ExprString(fl.Type)))
				}
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}
