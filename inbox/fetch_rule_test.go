package inbox

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestOnlyFetchGoCallsTheFetcher keeps the processor's rule that no remote
// document is fetched while a transaction is open: activity handlers run
// inside the batch's transaction and ask for documents through actorOf,
// objectOf and remoteObject, which end the attempt with a needFetch; only
// fetch.go, run by the worker with no transaction open, calls the Fetcher.
func TestOnlyFetchGoCallsTheFetcher(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if name == "fetch.go" || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Fetcher" {
				t.Errorf("%s: the Fetcher is used outside fetch.go; ask through actorOf/objectOf/remoteObject instead", fset.Position(sel.Pos()))
			}
			return true
		})
	}
}
