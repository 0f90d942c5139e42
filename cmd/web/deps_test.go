package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyTheBinaryKnowsTheFakes: no package but cmd/web and the sandbox
// package it starts depends on a provider fake or another *test package,
// and nothing but cmd/web imports the sandbox, so that handlers, areas and
// workers run in sandbox mode exactly the code they run in production.
// (go test puts the go command of its toolchain first on PATH.)
func TestOnlyTheBinaryKnowsTheFakes(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "kasa/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{"kasa/cmd/web": true, "kasa/sandbox": true}
	checked := 0
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		checked++
		if allowed[pkg] || testish(pkg) {
			continue
		}
		for dep := range strings.FieldsSeq(deps) {
			if testish(dep) || (dep == "kasa/sandbox" && pkg != "kasa/cmd/web") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("go list named only %d packages:\n%s", checked, out)
	}
}

// testish reports whether a package of the module is test support: a fake
// or a helper whose name ends in "test".
func testish(pkg string) bool {
	return strings.HasPrefix(pkg, "kasa/") && strings.HasSuffix(pkg, "test")
}
