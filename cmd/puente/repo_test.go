package main_test

// Repository checks: conventions that matter get a test (STYLE.md §1.4).

import (
	"flag"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite deps.txt from go list")

// moduleRoot is the repository root, two levels above this package.
const moduleRoot = "../.."

// TestPackageDocs checks that every package has exactly one package doc
// comment, in the form "Package name ..." ("Command name ..." for main).
func TestPackageDocs(t *testing.T) {
	dirs := map[string][]string{} // dir -> non-test .go files
	err := filepath.WalkDir(moduleRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != moduleRoot {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 5 {
		t.Fatalf("found only %d packages under %s", len(dirs), moduleRoot)
	}
	for dir, files := range dirs {
		var docs []string
		name := ""
		for _, f := range files {
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			name = af.Name.Name
			if af.Doc != nil {
				docs = append(docs, f)
				want := "Package " + name + " "
				if name == "main" {
					want = "Command "
				}
				if !strings.HasPrefix(af.Doc.Text(), want) {
					t.Errorf("%s: package doc starts %q, want %q", f, firstLine(af.Doc.Text()), want)
				}
			}
		}
		if len(docs) != 1 {
			t.Errorf("package %s (%s) has %d package doc comments %v, want exactly 1", name, dir, len(docs), docs)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestDeps pins the modules linked into the binary: a new one shows up in
// review as a change to deps.txt, with a reason in its commit. Refresh with
// go test ./cmd/puente -run TestDeps -update.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var got []string
	for _, p := range strings.Fields(string(out)) {
		if !strings.HasPrefix(p, "github.com/puente-project/puente") {
			got = append(got, p)
		}
	}
	text := strings.Join(got, "\n") + "\n"
	if *update {
		if err := os.WriteFile("deps.txt", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("deps.txt")
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != text {
		t.Errorf("linked dependencies changed; review them, then run go test ./cmd/puente -run TestDeps -update\ngot:\n%s\nwant:\n%s", text, want)
	}
	// Never in the binary: test and mock frameworks, other loggers.
	for _, p := range got {
		for _, banned := range []string{"testing", "go-internal", "testscript", "mock", "logrus", "zap", "zerolog", "net/http/pprof"} {
			if strings.Contains(p, banned) {
				t.Errorf("%s is linked into puente", p)
			}
		}
	}
}
