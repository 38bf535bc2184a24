package node

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// skinImports are the only packages of this module a skin may import: node
// owns the contract between the core and its skins (views.go), identity
// parses and shows peer IDs, assets holds the icons. A skin that reaches past
// node into store, chat, overlay or files would tie the protocol and the window
// to the core's storage and transport types again.
var skinImports = map[string]bool{"parley/node": true, "parley/identity": true, "parley/assets": true}

// skins are the directories (from this one) of the skins, tests included.
var skins = []string{"../app", "../headless", "../web", "../sip"}

// skinAlsoImports are further packages one skin may import: the web skin runs
// each guest's session through the headless protocol rather than a copy of it.
var skinAlsoImports = map[string]string{"../web": "parley/headless"}

func TestSkinsImportOnlyNode(t *testing.T) {
	for _, dir := range skins {
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(names) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, name := range names {
			for _, imp := range forbiddenImports(t, name) {
				if skinAlsoImports[dir] == imp {
					continue
				}
				t.Errorf("%s imports %s: a skin goes through node (and identity) only", name, imp)
			}
		}
	}
}

// forbiddenImports lists the module's packages a Go file imports that a skin may not.
func forbiddenImports(t *testing.T, name string) []string {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			t.Fatal(err)
		}
		if (path == "parley" || strings.HasPrefix(path, "parley/")) && !skinImports[path] {
			bad = append(bad, path)
		}
	}
	return bad
}
