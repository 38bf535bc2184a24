package wire

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// numberConst matches the names owning packages give these numbers.
var numberConst = regexp.MustCompile(`^(Type[A-Z]\w*|RecordExt\w*|ExtensionType|First(App|Bulk)Type|ext[A-Z]\w*)$`)

// TestNumbersComeFromRegistry fails when a package outside wire gives a frame or
// extension type constant a literal number instead of a registry constant, so the
// registry stays the one place numbers are chosen.
func TestNumbersComeFromRegistry(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != moduleRoot && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.Base(path) == "registry.go" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) || !numberConst.MatchString(name.Name) {
						continue
					}
					if _, lit := vs.Values[i].(*ast.BasicLit); lit {
						t.Errorf("%s: %s is a literal; define it from a wire registry constant", fset.Position(name.Pos()), name.Name)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
