package layering

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/reinstall-dev/reinstall"

// rule forbids the packages matching from (a path relative to the module, a
// trailing "/..." for a subtree) to depend, even indirectly (only directly
// when direct is set), on any package matching one of forbidden, except
// those matching one of allowed.
type rule struct {
	from      string
	direct    bool
	forbidden []string
	allowed   []string
	why       string
}

var rules = []rule{
	{from: "cmd/reinstall", direct: true, forbidden: []string{"plugins/..."}, allowed: []string{"plugins"},
		why: "the CLI reaches the built-in plugins only through the plugins registry, never a plugin's internals"},
	{from: "pipeline/...", forbidden: []string{"cmd/...", "plugins/...", "plugins"},
		why: "the language and the engine never name a built-in plugin: plugins describe themselves through the protocol"},
	{from: "pipeline", forbidden: []string{"pipeline/engine", "internal/pluginhost"},
		why: "the language (load, decode, variables, functions, references, format) runs no plugin: the engine does"},
	{from: "pipeline/journal", forbidden: []string{"pipeline", "pipeline/engine", "internal/pluginhost", "internal/runtime"},
		why: "the journal is a format and its replay, below the engine and the language"},
	{from: "internal/pluginhost", forbidden: []string{"cmd/...", "pipeline/...", "pipeline", "plugins", "plugins/..."},
		why: "the plugin host launches and supervises processes and knows no pipeline"},
	{from: "plugins/...", forbidden: []string{"cmd/...", "pipeline", "pipeline/...", "internal/pluginhost", "internal/runtime", "internal/slots", "internal/requests"},
		why: "a plugin reaches the engine and the container only through host services"},
	{from: "internal/vz", forbidden: []string{"cmd/...", "pipeline", "pipeline/...", "plugins", "plugins/...", "internal/pluginhost", "internal/runtime"},
		why: "the host layout is the lowest layer"},
	{from: "internal/safefs", forbidden: []string{"cmd/...", "pipeline", "pipeline/...", "plugins", "plugins/...", "internal/pluginhost", "internal/runtime", "internal/vz"},
		why: "untrusted-tree operations are the lowest layer"},
	{from: "internal/templates", forbidden: []string{"cmd/...", "pipeline", "pipeline/...", "plugins", "plugins/...", "internal/pluginhost", "internal/runtime", "internal/vz"},
		why: "unpacking a template serves the provision stage and ct create alike and knows neither"},
	{from: "internal/containers", forbidden: []string{"cmd/...", "pipeline", "pipeline/...", "plugins", "plugins/...", "internal/pluginhost", "internal/runtime"},
		why: "creating a container is a library below the CLI: the CLI parses flags and prints, no plugin is involved"},
	{from: "internal/runtime", forbidden: []string{"cmd/...", "pipeline", "pipeline/...", "plugins", "plugins/...", "internal/pluginhost"},
		why: "container runtimes serve the engine and know no pipeline"},
}

// TestImportLayering checks every rule against `go list -deps` of the
// main module.
func TestImportLayering(t *testing.T) {
	deps := listDeps(t, filepath.Join("..", ".."), "./...", "Deps")
	imports := listDeps(t, filepath.Join("..", ".."), "./...", "Imports")
	checked := 0
	for pkg, pkgDeps := range deps {
		rel, ok := relative(pkg)
		if !ok {
			continue
		}
		for _, r := range rules {
			if !matches(rel, r.from) {
				continue
			}
			checked++
			reached := pkgDeps
			if r.direct {
				reached = imports[pkg]
			}
			for _, d := range reached {
				drel, ok := relative(d)
				if !ok || drel == rel {
					continue
				}
				if matchesAny(drel, r.forbidden) && !matchesAny(drel, r.allowed) {
					t.Errorf("%s depends on %s: %s", rel, drel, r.why)
				}
			}
		}
	}
	if checked < len(rules) {
		t.Fatalf("only %d packages matched the %d rules: a rule names a package that is gone", checked, len(rules))
	}
}

// TestSDKImportsNothingOfTheHost: the plugin SDK is its own module that a
// vendor builds against; it depends on no package of the host.
func TestSDKImportsNothingOfTheHost(t *testing.T) {
	deps := listDeps(t, filepath.Join("..", "..", "plugin-sdk"), "./...", "Deps")
	if len(deps) == 0 {
		t.Fatal("go list found no SDK package")
	}
	for pkg, pkgDeps := range deps {
		for _, d := range pkgDeps {
			if rel, ok := relative(d); ok && !strings.HasPrefix(rel, "plugin-sdk") {
				t.Errorf("%s depends on the host's %s", pkg, rel)
			}
		}
	}
}

// listDeps maps each package matched by pattern in dir to the list field of
// `go list` names: Deps (transitive) or Imports (direct), test-only imports
// excluded.
func listDeps(t *testing.T, dir, pattern, field string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join ."+field+" \" \"}}", pattern)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list in %s: %v: %s", dir, err, stderr.String())
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 0 {
			deps[fields[0]] = fields[1:]
		}
	}
	return deps
}

// relative is pkg's path inside the module, ok false outside it.
func relative(pkg string) (string, bool) {
	if pkg == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(pkg, module+"/")
	return rel, ok
}

func matchesAny(rel string, patterns []string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matches(rel, p) })
}

// matches reports whether rel is the package p names, or inside the subtree
// "dir/..." names.
func matches(rel, p string) bool {
	if dir, ok := strings.CutSuffix(p, "/..."); ok {
		return strings.HasPrefix(rel, dir+"/")
	}
	return rel == p
}
