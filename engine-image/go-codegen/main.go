// Command tanto-go-codegen writes the generated files of a Dagger module
// written in Go (MODULES.md §8), in the layout Dagger's own codegen uses:
//
//	<dir>/dagger.gen.go                 package main: dag, main(), registration, dispatch
//	<dir>/internal/dagger/dagger.gen.go the Dagger API (the official library's names)
//	<dir>/internal/dagger/dependencies.gen.go  with -schema: the dependencies' types and constructors
//	<dir>/go.mod, go.sum                when missing (module dagger/<kebab(name)>)
//	<dir>/main.go                       with -init, when the directory has no Go file
//
// Usage: tanto-go-codegen -name NAME -lib LIBDIR -template TEMPLATEDIR [-schema JSON] [-dir DIR] [-out OUT] [-init]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

func main() {
	name := flag.String("name", "", "the module's name (dagger.json)")
	dir := flag.String("dir", ".", "the module's code directory")
	out := flag.String("out", "", "where to write the files (default: -dir)")
	libDir := flag.String("lib", "", "the source directory of dagger.io/dagger")
	template := flag.String("template", "", "a directory with the go.mod and go.sum new modules start from")
	init := flag.Bool("init", false, "write a starter main.go when the directory has no Go file")
	schema := flag.String("schema", "", "the introspection JSON (core and dependencies); dependencies get bindings")
	flag.Parse()
	if *out == "" {
		*out = *dir
	}
	if err := run(*name, *dir, *out, *libDir, *template, *schema, *init); err != nil {
		fmt.Fprintln(os.Stderr, "tanto-go-codegen:", err)
		os.Exit(1)
	}
}

func run(name, dir, out, libDir, template, schema string, init bool) error {
	if name == "" {
		return fmt.Errorf("-name is required")
	}
	lib, err := readLibrary(libDir)
	if err != nil {
		return err
	}
	write := func(rel string, data []byte) error {
		p := filepath.Join(out, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o644)
	}
	exists := func(rel string) bool { _, err := os.Stat(filepath.Join(dir, rel)); return err == nil }

	modulePath := "dagger/" + kebab(name)
	if exists("go.mod") {
		text, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err != nil {
			return err
		}
		if m := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(text); m != nil {
			modulePath = strings.Trim(string(m[1]), `"`)
		}
	} else {
		text, err := os.ReadFile(filepath.Join(template, "go.mod"))
		if err != nil {
			return err
		}
		text = regexp.MustCompile(`(?m)^module\s+\S+`).ReplaceAll(text, []byte("module "+modulePath))
		if err := write("go.mod", text); err != nil {
			return err
		}
	}
	if !exists("go.sum") {
		sum, err := os.ReadFile(filepath.Join(template, "go.sum"))
		if err != nil {
			return err
		}
		if err := write("go.sum", sum); err != nil {
			return err
		}
	}
	if init && !hasGoFiles(dir) {
		if err := write("main.go", []byte(starterMain(name, modulePath))); err != nil {
			return err
		}
		dir = out
	}
	if err := write("internal/dagger/dagger.gen.go", []byte(internalDaggerSource(lib))); err != nil {
		return err
	}
	if schema != "" {
		types, err := readSchema(schema)
		if err != nil {
			return err
		}
		deps, err := dependenciesSource(lib, types)
		if err != nil {
			return err
		}
		if deps != "" {
			if err := write(depsFile, []byte(deps)); err != nil {
				return err
			}
		} else if err := os.Remove(filepath.Join(out, depsFile)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	mod, err := parseModule(dir, name, lib)
	if err != nil {
		return err
	}
	src, err := mainSource(mod, lib, modulePath)
	if err != nil {
		return err
	}
	return write("dagger.gen.go", src)
}

const depsFile = "internal/dagger/dependencies.gen.go"

func hasGoFiles(dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") && e.Name() != "dagger.gen.go" {
			return true
		}
	}
	return false
}

// starterMain: the module a new Go module starts with.
func starterMain(name, modulePath string) string {
	main := camel(name)
	return fmt.Sprintf(`// A Dagger module for %[1]s, written in Go.
//
// Each exported method of %[1]s below is a function you can call with
// "dagger call"; its doc comment is the function's description and each
// parameter becomes a flag. Edit them or add your own, then run
// "dagger functions" to see what the module offers.

package main

import (
	"context"
	"%[2]s/internal/dagger"
)

type %[1]s struct{}

// Returns a container that echoes whatever string argument is provided
func (m *%[1]s) ContainerEcho(stringArg string) *dagger.Container {
	return dag.Container().From("alpine:latest").WithExec([]string{"echo", stringArg})
}

// Returns lines that match a pattern in the files of the provided Directory
func (m *%[1]s) GrepDir(ctx context.Context, directoryArg *dagger.Directory, pattern string) (string, error) {
	return dag.Container().
		From("alpine:latest").
		WithMountedDirectory("/mnt", directoryArg).
		WithWorkdir("/mnt").
		WithExec([]string{"grep", "-R", pattern, "."}).
		Stdout(ctx)
}
`, main, modulePath)
}
