package wire

import (
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// moduleRoot is where the registry's Layout paths start.
const moduleRoot = "../.."

// registryConsts type-checks registry.go on its own (it imports nothing) and
// returns its uint8 constants by name.
func registryConsts(t *testing.T) map[string]uint8 {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "registry.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := (&types.Config{Importer: importer.Default()}).Check("wire", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint8{}
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok {
			continue
		}
		v, _ := constant.Uint64Val(c.Val())
		out[name] = uint8(v)
	}
	return out
}

// TestRegistry checks that every number is registered once under its constant's
// name, sits in its owner's range, and has a layout file that documents it.
func TestRegistry(t *testing.T) {
	consts := registryConsts(t)
	spaces := []struct {
		prefix string
		table  *[256]Entry
	}{{"Frame", &Frames}, {"RecordExt", &RecordExts}, {"BeaconExt", &BeaconExts}}
	for _, s := range spaces {
		seen := map[uint8]string{}
		for name, v := range consts {
			if !strings.HasPrefix(name, s.prefix) || name == "FrameFirstApp" || name == "FrameFirstBulk" {
				continue
			}
			if other, dup := seen[v]; dup {
				t.Errorf("%s and %s are both %d", name, other, v)
			}
			seen[v] = name
			if got := s.table[v].Name; got != name {
				t.Errorf("%s = %d: the table has %q at %d", name, v, got, v)
			}
		}
		for v, e := range s.table {
			if e.Name == "" {
				continue
			}
			if c, ok := consts[e.Name]; !ok || int(c) != v {
				t.Errorf("%s table entry %d names %s, which is not that constant", s.prefix, v, e.Name)
			}
			if e.Owner == "" {
				t.Errorf("%s has no owner", e.Name)
			}
			if s.prefix == "Frame" && (e.Owner == "overlay") != (uint8(v) < FrameFirstApp) {
				t.Errorf("%s = %d owned by %s: the overlay owns exactly the types below %d", e.Name, v, e.Owner, FrameFirstApp)
			}
			doc, err := os.ReadFile(filepath.Join(moduleRoot, e.Layout))
			if err != nil {
				t.Errorf("%s: layout file: %v", e.Name, err)
				continue
			}
			if e.Mark == "" || !strings.Contains(string(doc), e.Mark) {
				t.Errorf("%s: %s does not contain %q, so its layout is not documented there", e.Name, e.Layout, e.Mark)
			}
		}
	}
}
