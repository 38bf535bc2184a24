package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// docFiles are the Markdown files a reader follows links between: the README and
// everything under docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	err := filepath.WalkDir("docs", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// mdLink matches an inline Markdown link or image target: [text](target) or
// [text](target "title").
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// proseLines returns the lines of a Markdown file outside fenced code blocks,
// where a "](x)" is code, not a link.
func proseLines(text string) []string {
	var out []string
	fenced := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			out = append(out, line)
		}
	}
	return out
}

// anchors returns the heading anchors GitHub makes for a Markdown file: lower
// case, punctuation dropped, spaces to hyphens.
func anchors(text string) map[string]bool {
	set := map[string]bool{}
	for _, line := range proseLines(text) {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				b.WriteRune(r)
			}
		}
		set[b.String()] = true
	}
	return set
}

// pendingDocs are link targets written on a parallel branch of issue 21; a
// missing one is not an error yet. Once the file exists the test fails until its
// entry is removed here, so the exception cannot outlive the merge.
var pendingDocs = map[string]bool{}

// TestDocLinksResolve checks that every relative link in the README and docs/
// names a file that exists, and that an anchor into a Markdown file names one of
// its headings, so moving or renaming a doc cannot leave a dead link behind.
func TestDocLinksResolve(t *testing.T) {
	checked := 0
	for _, file := range docFiles(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range proseLines(string(b)) {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, anchor, _ := strings.Cut(target, "#")
				resolved := file
				if path != "" {
					resolved = filepath.Join(filepath.Dir(file), path)
				}
				checked++
				_, err := os.Stat(resolved)
				if pendingDocs[resolved] {
					if err == nil {
						t.Errorf("%s exists now: remove it from pendingDocs", resolved)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: link %q: %s does not exist", file, target, resolved)
					continue
				}
				if anchor == "" || !strings.HasSuffix(resolved, ".md") {
					continue
				}
				tb, err := os.ReadFile(resolved)
				if err != nil {
					t.Fatal(err)
				}
				if !anchors(string(tb))[anchor] {
					t.Errorf("%s: link %q: %s has no heading #%s", file, target, resolved, anchor)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d relative links found: is the link pattern still right?", checked)
	}
}

// mainFlags returns the names of the flags main.go defines (flag.Bool("name", …)).
func mainFlags(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "flag" {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		if name, err := strconv.Unquote(lit.Value); err == nil {
			names = append(names, name)
		}
		return true
	})
	if len(names) < 10 {
		t.Fatalf("found only %d flags in main.go: is the parser still right?", len(names))
	}
	return names
}

// usageRow matches a row of the flag table in docs/usage.md: | `--name` or
// | `--name FILE`.
var usageRow = regexp.MustCompile("^\\| `--([a-z0-9-]+)")

// TestUsageListsEveryFlag checks docs/usage.md's flag table against main.go both
// ways: every flag has a row, and every row is a flag that still exists.
func TestUsageListsEveryFlag(t *testing.T) {
	b, err := os.ReadFile("docs/usage.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(string(b), "\n") {
		if m := usageRow.FindStringSubmatch(line); m != nil {
			rows = append(rows, m[1])
		}
	}
	flags := mainFlags(t)
	for _, f := range flags {
		if !slices.Contains(rows, f) {
			t.Errorf("flag --%s is not in docs/usage.md's flag table", f)
		}
	}
	for _, r := range rows {
		if !slices.Contains(flags, r) {
			t.Errorf("docs/usage.md lists --%s, which main.go does not define", r)
		}
	}
}
