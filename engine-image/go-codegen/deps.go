package main

// Bindings for the module's dependencies: the types of the introspection
// JSON (MODULES.md §10) that the library does not have — the dependencies'
// objects and enums, and their constructors on Query — written into
// internal/dagger as lazy query builders, as the library's own types are.

import (
	"encoding/json"
	"fmt"
	"go/format"
	"os"
	"sort"
	"strings"
)

type typeRef struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	OfType *typeRef `json:"ofType"`
}

type inputValue struct {
	Name         string  `json:"name"`
	Description  string  `json:"description"`
	Type         typeRef `json:"type"`
	DefaultValue *string `json:"defaultValue"`
}

type schemaField struct {
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Args        []inputValue `json:"args"`
	Type        typeRef      `json:"type"`
}

type schemaType struct {
	Kind        string        `json:"kind"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Fields      []schemaField `json:"fields"`
	EnumValues  []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"enumValues"`
}

type depGen struct {
	lib   *library
	types map[string]*schemaType
	own   map[string]bool // the dependencies' type names
	b     strings.Builder
}

func readSchema(file string) (map[string]*schemaType, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Schema struct {
			Types []*schemaType `json:"types"`
		} `json:"__schema"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("reading the introspection JSON %s: %w", file, err)
	}
	out := map[string]*schemaType{}
	for _, t := range doc.Schema.Types {
		out[t.Name] = t
	}
	return out, nil
}

// dependenciesSource: internal/dagger/dependencies.gen.go, or "" when the module has none.
func dependenciesSource(lib *library, types map[string]*schemaType) (string, error) {
	g := &depGen{lib: lib, types: types, own: map[string]bool{}}
	var names []string
	for name, t := range types {
		if strings.HasPrefix(name, "_") || name == "Query" || name == "Client" {
			continue
		}
		if _, inLib := lib.types[name]; inLib {
			continue
		}
		if t.Kind == "OBJECT" || t.Kind == "ENUM" {
			g.own[name] = true
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	sort.Strings(names)
	g.printf("%spackage dagger\n\nimport (\n\t\"context\"\n\t\"encoding/json\"\n\n\t\"github.com/dagger/querybuilder\"\n)\n\n", generatedHeader)
	g.printf("var _ = json.Marshal\n\n")
	for _, name := range names {
		t := types[name]
		if t.Kind == "ENUM" {
			g.enum(t)
		} else {
			g.object(t)
		}
	}
	// Constructors: Query fields returning a dependency's object.
	if q := types["Query"]; q != nil {
		for _, f := range q.Fields {
			if r := unwrap(&f.Type); r.Kind == "OBJECT" && g.own[r.Name] {
				g.method("Client", "c.QueryBuilder()", "c", f)
			}
		}
	}
	src, err := format.Source([]byte(g.b.String()))
	if err != nil {
		return g.b.String(), fmt.Errorf("formatting the dependencies' bindings: %w", err)
	}
	return string(src), nil
}

func (g *depGen) printf(f string, args ...any) { fmt.Fprintf(&g.b, f, args...) }

func unwrap(t *typeRef) *typeRef {
	for t.Kind == "NON_NULL" && t.OfType != nil {
		t = t.OfType
	}
	return t
}

func comment(text string) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	return "// " + strings.ReplaceAll(strings.TrimSpace(text), "\n", "\n// ") + "\n"
}

// goTypeOf: the Go type of a schema type, "" when not expressible here.
func (g *depGen) goTypeOf(t *typeRef) string {
	t = unwrap(t)
	switch t.Kind {
	case "LIST":
		elem := g.goTypeOf(t.OfType)
		if elem == "" {
			return ""
		}
		return "[]" + elem
	case "SCALAR":
		switch t.Name {
		case "String":
			return "string"
		case "Int":
			return "int"
		case "Float":
			return "float64"
		case "Boolean":
			return "bool"
		}
		if _, ok := g.lib.types[t.Name]; ok {
			return t.Name
		}
		return "string"
	case "ENUM", "INPUT_OBJECT":
		if _, ok := g.lib.types[t.Name]; ok || g.own[t.Name] {
			return t.Name
		}
	case "OBJECT":
		if _, ok := g.lib.types[t.Name]; ok || g.own[t.Name] {
			return "*" + t.Name
		}
	}
	return ""
}

func (g *depGen) enum(t *schemaType) {
	g.printf("%stype %s string\n\nfunc (%s) IsEnum() {}\n\nconst (\n", comment(t.Description), t.Name, t.Name)
	for _, v := range t.EnumValues {
		g.printf("\t%s%s%s %s = %q\n", comment(v.Description), t.Name, camel(v.Name), t.Name, v.Name)
	}
	g.printf(")\n\n")
}

func (g *depGen) object(t *schemaType) {
	n := t.Name
	g.printf("%stype %s struct {\n\tquery *querybuilder.Selection\n}\n\n", comment(t.Description), n)
	g.printf("func (r *%s) WithGraphQLQuery(q *querybuilder.Selection) *%s {\n\treturn &%s{query: q}\n}\n\n", n, n, n)
	g.printf("func (r *%s) XXX_GraphQLType() string {\n\treturn %q\n}\n\n", n, n)
	g.printf("func (r *%s) XXX_GraphQLIDType() string {\n\treturn \"ID\"\n}\n\n", n)
	g.printf("func (r *%s) XXX_GraphQLID(ctx context.Context) (string, error) {\n\tid, err := r.ID(ctx)\n\treturn string(id), err\n}\n\n", n)
	g.printf("func (r *%s) MarshalJSON() ([]byte, error) {\n\tid, err := r.ID(context.Background())\n\tif err != nil {\n\t\treturn nil, err\n\t}\n\treturn json.Marshal(id)\n}\n\n", n)
	hasID := false
	for _, f := range t.Fields {
		if f.Name == "id" {
			hasID = true
		}
		g.method(n, "r.query", "r", f)
	}
	if !hasID {
		g.printf("func (r *%s) ID(ctx context.Context) (ID, error) {\n\tvar id ID\n\treturn id, r.query.Select(\"id\").Bind(&id).Execute(ctx)\n}\n\n", n)
	}
}

// method: one field of the schema as a Go method on `recv` (Client or a dependency's type).
func (g *depGen) method(recv, base, self string, f schemaField) {
	ret := unwrap(&f.Type)
	goRet := g.goTypeOf(&f.Type)
	if goRet == "" {
		return // types this module cannot express are not bound
	}
	// A list of objects: their IDs, each loaded with node(id:), as the library does.
	listOf := ""
	if ret.Kind == "LIST" && unwrap(ret.OfType).Kind == "OBJECT" {
		if elem := unwrap(ret.OfType); elem.OfType == nil {
			listOf = elem.Name
			goRet = "[]" + listOf
		} else {
			return
		}
	}
	var required, optional []inputValue
	for _, a := range f.Args {
		if g.goTypeOf(&a.Type) == "" {
			return
		}
		if a.Type.Kind == "NON_NULL" && a.DefaultValue == nil {
			required = append(required, a)
		} else {
			optional = append(optional, a)
		}
	}
	name := camel(f.Name)
	if f.Name == "id" {
		name = "ID"
		goRet = "ID"
	}
	optsType := recv + name + "Opts"
	if recv == "Client" {
		optsType = name + "Opts"
	}
	if len(optional) > 0 {
		g.printf("// %s holds the optional arguments of %s.%s.\ntype %s struct {\n", optsType, recv, name, optsType)
		for _, a := range optional {
			g.printf("\t%s%s %s\n", comment(a.Description), camel(a.Name), g.goTypeOf(&a.Type))
		}
		g.printf("}\n\n")
	}
	var params []string
	for _, a := range required {
		params = append(params, fmt.Sprintf("%s %s", safeIdent(a.Name), g.goTypeOf(&a.Type)))
	}
	if len(optional) > 0 {
		params = append(params, "opts ..."+optsType)
	}
	isObject := ret.Kind == "OBJECT"
	if !isObject {
		params = append([]string{"ctx context.Context"}, params...)
	}
	sig := fmt.Sprintf("func (%s *%s) %s(%s)", self, recv, name, strings.Join(params, ", "))
	if isObject {
		sig += " " + goRet
	} else {
		sig += fmt.Sprintf(" (%s, error)", goRet)
	}
	g.printf("%s%s {\n\tq := %s.Select(%q)\n", comment(f.Description), sig, base, f.Name)
	for _, a := range required {
		g.printf("\tq = q.Arg(%q, %s)\n", a.Name, safeIdent(a.Name))
	}
	if len(optional) > 0 {
		g.printf("\tfor i := len(opts) - 1; i >= 0; i-- {\n")
		for _, a := range optional {
			g.printf("\t\tif !querybuilder.IsZeroValue(opts[i].%s) {\n\t\t\tq = q.Arg(%q, opts[i].%s)\n\t\t}\n", camel(a.Name), a.Name, camel(a.Name))
		}
		g.printf("\t}\n")
	}
	if isObject {
		g.printf("\treturn (&%s{}).WithGraphQLQuery(q)\n}\n\n", ret.Name)
		return
	}
	if listOf != "" {
		g.printf("\tvar ids []struct{ Id ID }\n\tif err := q.Select(\"id\").Bind(&ids).Execute(ctx); err != nil {\n\t\treturn nil, err\n\t}\n")
		g.printf("\tout := make(%s, 0, len(ids))\n\tfor _, x := range ids {\n", goRet)
		g.printf("\t\tout = append(out, *(&%s{}).WithGraphQLQuery(q.Root().Select(\"node\").Arg(\"id\", x.Id).InlineFragment(%q)))\n\t}\n\treturn out, nil\n}\n\n", listOf, listOf)
		return
	}
	g.printf("\tvar out %s\n\treturn out, q.Bind(&out).Execute(ctx)\n}\n\n", goRet)
}

func safeIdent(s string) string {
	switch s {
	case "type", "func", "var", "range", "map", "chan", "go", "select", "case", "default", "interface", "package", "import", "return", "struct", "switch", "const", "defer", "else", "for", "goto", "if", "break", "continue", "fallthrough":
		return s + "_"
	}
	return s
}
