package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	for in, want := range map[string][2]string{
		"my-mod":      {"MyMod", "my-mod"},
		"hello":       {"Hello", "hello"},
		"HTTPServer":  {"HttpServer", "http-server"},
		"go_sdk2test": {"GoSdk2test", "go-sdk2test"},
	} {
		if got := camel(in); got != want[0] {
			t.Errorf("camel(%q) = %q, want %q", in, got, want[0])
		}
		if got := kebab(in); got != want[1] {
			t.Errorf("kebab(%q) = %q, want %q", in, got, want[1])
		}
	}
}

func TestPragmas(t *testing.T) {
	doc, p := pragmas("The name\n+optional\n+default=\"x y\"\n+defaultPath=/src\n+ignore=[\"a\", \"b\"]\nmore text\n")
	if doc != "The name\nmore text" {
		t.Errorf("doc = %q", doc)
	}
	if _, ok := p["optional"]; !ok || p["default"] != "x y" || p["defaultPath"] != "/src" {
		t.Errorf("pragmas = %#v", p)
	}
	if list, ok := p["ignore"].([]any); !ok || len(list) != 2 {
		t.Errorf("ignore = %#v", p["ignore"])
	}
}

// A module's source through parse and emit, against a stand-in library.
func TestModuleSource(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib")
	mod := filepath.Join(dir, "mod")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(lib, 0o755))
	must(os.MkdirAll(mod, 0o755))
	must(os.WriteFile(filepath.Join(lib, "dagger.gen.go"), []byte(`package dagger
type Container struct{}
type Directory struct{}
type Platform string
type NetworkProtocol string
const NetworkProtocolTcp NetworkProtocol = "TCP"
type Query struct{}
func (r *Query) LoadContainerFromID(id ContainerID) *Container { return nil }
`), 0o644))
	must(os.WriteFile(filepath.Join(mod, "main.go"), []byte(`// The module's doc
package main

import (
	"context"
	"dagger/x/internal/dagger"
)

// The main object
type MyMod struct {
	Ctr *dagger.Container
	// +private
	Hidden string
}

type Mode string

const (
	// Fast mode
	Fast Mode = "FAST"
	Slow Mode = "SLOW"
)

func New(
	// +optional
	ctr *dagger.Container,
) *MyMod {
	return &MyMod{Ctr: ctr}
}

// Does things
func (m *MyMod) Run(ctx context.Context, mode Mode, ctrs []*dagger.Container, p dagger.Platform) (string, error) {
	return "", nil
}

// +cache="session"
func (m *MyMod) Nothing() error { return nil }
`), 0o644))
	l, err := readLibrary(lib)
	must(err)
	if l.types["NetworkProtocol"] != kCoreEnum || l.types["Container"] != kCoreObject || l.types["Platform"] != kCoreScalar {
		t.Fatalf("library kinds: %#v", l.types)
	}
	m, err := parseModule(mod, "my-mod", l)
	must(err)
	src, err := mainSource(m, l, "dagger/my-mod")
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	text := string(src)
	for _, want := range []string{
		`mod.WithDescription("The module's doc")`,
		`WithObject("MyMod", dagger.TypeDefWithObjectOpts{Description: "The main object"})`,
		`WithArg("ctrs", dag.TypeDef().WithListOf(dag.TypeDef().WithObject("Container")))`,
		`WithArg("p", dag.TypeDef().WithScalar("Platform"))`,
		`WithArg("mode", dag.TypeDef().WithEnum("Mode"))`,
		`WithField("Ctr", dag.TypeDef().WithObject("Container"))`,
		`WithConstructor(dag.Function("", dag.TypeDef().WithObject("MyMod"))`,
		`WithArg("ctr", dag.TypeDef().WithObject("Container").WithOptional(true))`,
		`dag.Function("Nothing", dag.TypeDef().WithKind(dagger.TypeDefKindVoidKind).WithOptional(true))`,
		`WithEnumMember("FAST", dagger.TypeDefWithEnumMemberOpts{Value: "FAST", Description: "Fast mode"})`,
		`func (r *MyMod) UnmarshalJSON(bs []byte) error`,
		`WithCachePolicy(dagger.FunctionCachePolicyPerSession)`,
		`dag.LoadContainerFromID(dagger.ContainerID(id))`,
		`case "":`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("generated code lacks %s", want)
		}
	}
	if strings.Contains(text, `"Hidden"`) {
		t.Errorf("a +private field is registered")
	}
}

// The dependencies' bindings from an introspection JSON.
func TestDependencies(t *testing.T) {
	file := filepath.Join(t.TempDir(), "schema.json")
	schema := `{"__schema":{"types":[
{"kind":"OBJECT","name":"Query","fields":[
  {"name":"shouter","args":[],"type":{"kind":"NON_NULL","ofType":{"kind":"OBJECT","name":"Shouter"}}}]},
{"kind":"OBJECT","name":"Container","fields":[]},
{"kind":"ENUM","name":"ShouterVolume","enumValues":[{"name":"LOUD","description":"Very"}]},
{"kind":"OBJECT","name":"Shouter","description":"Shouts","fields":[
  {"name":"id","args":[],"type":{"kind":"NON_NULL","ofType":{"kind":"SCALAR","name":"ID"}}},
  {"name":"shout","description":"Shouts a message","args":[
    {"name":"msg","type":{"kind":"NON_NULL","ofType":{"kind":"SCALAR","name":"String"}}},
    {"name":"volume","type":{"kind":"ENUM","name":"ShouterVolume"},"defaultValue":"LOUD"}],
   "type":{"kind":"NON_NULL","ofType":{"kind":"SCALAR","name":"String"}}},
  {"name":"boxes","args":[],"type":{"kind":"NON_NULL","ofType":{"kind":"LIST","ofType":{"kind":"NON_NULL","ofType":{"kind":"OBJECT","name":"Container"}}}}},
  {"name":"box","args":[],"type":{"kind":"NON_NULL","ofType":{"kind":"OBJECT","name":"Container"}}}]}
]}}`
	if err := os.WriteFile(file, []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	types, err := readSchema(file)
	if err != nil {
		t.Fatal(err)
	}
	lib := &library{types: map[string]kind{"Container": kCoreObject, "ID": kCoreScalar}}
	src, err := dependenciesSource(lib, types)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	for _, want := range []string{
		`func (c *Client) Shouter() *Shouter {`,
		`func (r *Shouter) Shout(ctx context.Context, msg string, opts ...ShouterShoutOpts) (string, error) {`,
		`Volume ShouterVolume`,
		`ShouterVolumeLoud ShouterVolume = "LOUD"`,
		`func (r *Shouter) Boxes(ctx context.Context) ([]Container, error) {`,
		`InlineFragment("Container")`,
		`func (r *Shouter) Box() *Container {`,
		`func (r *Shouter) ID(ctx context.Context) (ID, error) {`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("bindings lack %s\n%s", want, src)
		}
	}
	if _, err := dependenciesSource(lib, map[string]*schemaType{"Container": {Kind: "OBJECT", Name: "Container"}}); err != nil {
		t.Fatal(err)
	}
}

// A Go interface embedding DaggerObject: registered with withInterface, taken as an argument, called by queries.
func TestInterfaces(t *testing.T) {
	if got := servedName("Fooer", "my-module"); got != "MyModuleFooer" {
		t.Errorf("servedName(Fooer) = %q", got)
	}
	if got := servedName("MyModuleThing", "my-module"); got != "MyModuleThing" {
		t.Errorf("servedName(MyModuleThing) = %q", got)
	}
	src, err := generate(t, "my-module", `package main

import (
	"context"
	"dagger/my-module/internal/dagger"
)

type MyModule struct{}

// Something that foos
type Fooer interface {
	DaggerObject
	Foo(ctx context.Context, bar int) (string, error)
	Box(name string) *dagger.Container
	Again() Fooer
	Size(ctx context.Context) (*Measure, error)
	Sizes(ctx context.Context) ([]*Measure, error)
	Boxes(ctx context.Context) ([]*dagger.Container, error)
	Others(ctx context.Context) ([]Fooer, error)
}

// Only the interface returns it.
type Measure struct {
	Value int
	Unit  string `+"`json:\"unit_name\"`"+`
}

func (m *MyModule) Foo(ctx context.Context, fooer Fooer) (string, error) {
	return fooer.Foo(ctx, 42)
}
`)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	text := string(src)
	for _, want := range []string{
		`mod = mod.WithInterface(dag.TypeDef().WithInterface("Fooer", dagger.TypeDefWithInterfaceOpts{Description: "Something that foos"})`,
		`WithFunction(dag.Function("Foo", dag.TypeDef().WithKind(dagger.TypeDefKindStringKind))`,
		`WithArg("fooer", dag.TypeDef().WithInterface("Fooer"))`,
		`dag.QueryBuilder().Select("loadMyModuleFooerFromID").Arg("id", id)`,
		`func (r *implFooer) Foo(ctx context.Context, bar int) (string, error) {`,
		`q = q.Arg("bar", bar)`,
		`return (&dagger.Container{}).WithGraphQLQuery(q)`,
		`return &implFooer{query: q}`,
		`return loadFooer(id), nil`,
		`mod = mod.WithObject(dag.TypeDef().WithObject("Measure", dagger.TypeDefWithObjectOpts{Description: "Only the interface returns it."})`,
		`func (r *implFooer) Size(ctx context.Context) (*Measure, error) {`,
		`return out, q.SelectMultiple("Value: value", "unit_name: unitName").Bind(&out).Execute(ctx)`,
		`func (r *implFooer) Sizes(ctx context.Context) ([]*Measure, error) {`,
		`if err := q.Select("id").Bind(&ids).Execute(ctx); err != nil {`,
		`out = append(out, dag.LoadContainerFromID(dagger.ContainerID(x.Id)))`,
		`out = append(out, loadFooer(x.Id))`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("generated code lacks %s\n", want)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

// An object whose state the engine does not serve in full cannot come back through an interface.
func TestInterfaceObjectResultRefused(t *testing.T) {
	for src, want := range map[string]string{
		"type Secret struct {\n\tShown string\n\t// +private\n\tKept string\n}\n": "interface Fooer, method Get: results of object Secret are not supported in interfaces: it has private fields",
		"type Secret struct {\n\tBox *dagger.Container\n}\n":                      "interface Fooer, method Get: results of object Secret are not supported in interfaces: its field Box holds *dagger.Container",
	} {
		main := "package main\n\nimport (\n\t\"context\"\n\t\"dagger/m/internal/dagger\"\n)\n\ntype M struct{}\n\n" + src +
			"type Fooer interface {\n\tDaggerObject\n\tGet(ctx context.Context) (*Secret, error)\n}\n\nfunc (m *M) Use(f Fooer) *dagger.Container { return nil }\n"
		if _, err := generate(t, "m", main); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("mainSource: %v, want %q", err, want)
		}
	}
}

// generate: dagger.gen.go for module `name` whose main.go is `main`, against a library of one type (Container).
func generate(t *testing.T, name, main string) ([]byte, error) {
	t.Helper()
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib")
	mod := filepath.Join(dir, "mod")
	for _, d := range []string{lib, mod} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(lib, "dagger.gen.go"), []byte("package dagger\ntype Container struct{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := readLibrary(lib)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseModule(mod, name, l)
	if err != nil {
		t.Fatal(err)
	}
	return mainSource(m, l, "dagger/"+name)
}
