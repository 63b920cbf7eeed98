package main

// The module's interfaces (Go interfaces embedding DaggerObject): read from
// the source, registered (Module.withInterface), and the value a function taking one
// receives — a client whose methods query the engine for the wrapped object's
// functions, whatever module (and SDK) it comes from.

import (
	"fmt"
	"go/ast"
	"sort"
	"strconv"
	"strings"
)

// embedsDaggerObject: the interface lists DaggerObject among its embedded types.
func embedsDaggerObject(t *ast.InterfaceType) bool {
	for _, m := range t.Methods.List {
		if id, ok := m.Type.(*ast.Ident); ok && len(m.Names) == 0 && id.Name == "DaggerObject" {
			return true
		}
	}
	return false
}

// addIface: an interface's methods, read as functions (their doc comments and pragmas included).
func (p *parser_) addIface(name string, ts *ast.TypeSpec) error {
	doc, _ := pragmas(p.docs[name])
	it := &iface{name: name, doc: doc, pos: int(ts.Pos())}
	var file *ast.File
	for _, f := range p.files {
		if f.Pos() <= ts.Pos() && ts.End() <= f.End() {
			file = f
		}
	}
	for _, m := range ts.Type.(*ast.InterfaceType).Methods.List {
		ft, ok := m.Type.(*ast.FuncType)
		if !ok || len(m.Names) == 0 {
			continue
		}
		for _, n := range m.Names {
			fn, err := p.function(file, &ast.FuncDecl{Doc: m.Doc, Name: n, Type: ft})
			if err != nil {
				return fmt.Errorf("interface %s: %w", name, err)
			}
			it.methods = append(it.methods, fn)
		}
	}
	p.mod.ifaces[name] = it
	return nil
}

// servedName: the name the engine serves a module's type under (MODULES.md §4).
func servedName(typ, mod string) string {
	t, m := camel(typ), camel(mod)
	if t == m {
		return m
	}
	if rest, ok := strings.CutPrefix(t, m); ok && rest != "" && (rest[0] >= 'A' && rest[0] <= 'Z' || rest[0] >= '0' && rest[0] <= '9') {
		return t
	}
	return camel(mod + "_" + typ)
}

func lowerCamel(s string) string {
	c := camel(s)
	if c == "" {
		return c
	}
	return strings.ToLower(c[:1]) + c[1:]
}

// implName: the generated type implementing interface `name` by queries.
func implName(name string) string { return "impl" + name }

// usedIfaces: the module's interfaces, in source order.
func (e *emitter) usedIfaces() []*iface {
	out := make([]*iface, 0, len(e.mod.ifaces))
	for _, it := range e.mod.ifaces {
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pos < out[j].pos })
	return out
}

func (e *emitter) registerIfaces() {
	for _, it := range e.usedIfaces() {
		opts := ""
		if it.doc != "" {
			opts = fmt.Sprintf(", dagger.TypeDefWithInterfaceOpts{Description: %q}", it.doc)
		}
		e.printf("\tmod = mod.WithInterface(dag.TypeDef().WithInterface(%q%s)", it.name, opts)
		for _, m := range it.methods {
			e.printf(".\n\t\tWithFunction(%s)", e.functionDef(m.goName, m))
		}
		e.printf(")\n")
	}
}

// ifaceClients: for each interface, a type holding the query of its value, with the interface's methods.
func (e *emitter) ifaceClients() error {
	for _, it := range e.usedIfaces() {
		n := implName(it.name)
		served := servedName(it.name, e.mod.name)
		e.printf("// %s is a %s received from the engine: its functions run where its object comes from.\n", n, it.name)
		e.printf("type %s struct {\n\tquery *querybuilder.Selection\n}\n\n", n)
		e.printf("func load%s(id string) *%s {\n\treturn &%s{query: dag.QueryBuilder().Select(%q).Arg(\"id\", id)}\n}\n\n", it.name, n, n, "load"+served+"FromID")
		e.printf("func (r *%s) XXX_GraphQLType() string { return %q }\n\n", n, served)
		e.printf("func (r *%s) XXX_GraphQLIDType() string { return \"ID\" }\n\n", n)
		e.printf("func (r *%s) XXX_GraphQLID(ctx context.Context) (string, error) {\n\tvar id string\n\treturn id, r.query.Select(\"id\").Bind(&id).Execute(ctx)\n}\n\n", n)
		e.printf("func (r *%s) MarshalJSON() ([]byte, error) {\n\tid, err := r.XXX_GraphQLID(context.Background())\n\tif err != nil {\n\t\treturn nil, err\n\t}\n\treturn json.Marshal(id)\n}\n\n", n)
		for _, m := range it.methods {
			if err := e.ifaceMethod(it, m); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *emitter) ifaceMethod(it *iface, m *function) error {
	n := implName(it.name)
	var params []string
	ctx := ""
	for _, p := range m.params {
		switch {
		case p.isContext:
			params = append(params, p.name+" context.Context")
			ctx = p.name
		case p.variadic:
			params = append(params, p.name+" ..."+p.typ.elem.expr)
		default:
			params = append(params, p.name+" "+p.typ.expr)
		}
	}
	results := ""
	switch {
	case m.result != nil && m.returnsErr:
		results = fmt.Sprintf(" (%s, error)", m.result.expr)
	case m.result != nil:
		results = " " + m.result.expr
	case m.returnsErr:
		results = " error"
	}
	e.printf("func (r *%s) %s(%s)%s {\n\tq := r.query.Select(%q)\n", n, m.goName, strings.Join(params, ", "), results, lowerCamel(m.goName))
	for _, p := range m.params {
		if !p.isContext {
			e.printf("\tq = q.Arg(%q, %s)\n", lowerCamel(p.name), p.name)
		}
	}
	errSuffix := ""
	if m.returnsErr {
		errSuffix = ", nil"
	}
	where := fmt.Sprintf("interface %s, method %s", it.name, m.goName)
	switch {
	case m.result == nil:
		if ctx == "" || !m.returnsErr {
			return fmt.Errorf("%s: a method without a result needs a context.Context parameter and an error result", where)
		}
		e.printf("\treturn q.Execute(%s)\n}\n\n", ctx)
	case m.result.kind == kCoreObject:
		e.printf("\treturn (&dagger.%s{}).WithGraphQLQuery(q)%s\n}\n\n", m.result.name, errSuffix)
	case m.result.kind == kIface:
		e.printf("\treturn &%s{query: q}%s\n}\n\n", implName(m.result.name), errSuffix)
	case m.result.kind == kObject || m.result.kind == kList && (m.result.elem.kind == kObject || m.result.elem.needsDecode()):
		if ctx == "" || !m.returnsErr {
			return fmt.Errorf("%s: a method returning %s needs a context.Context parameter and an error result", where, m.result.expr)
		}
		return e.ifaceObjectsResult(where, m.result, ctx)
	default:
		if ctx == "" || !m.returnsErr {
			return fmt.Errorf("%s: a method returning %s needs a context.Context parameter and an error result", where, m.result.expr)
		}
		e.printf("\tvar out %s\n\treturn out, q.Bind(&out).Execute(%s)\n}\n\n", m.result.expr, ctx)
	}
	return nil
}

// ifaceObjectsResult: the end of an interface method whose result is one of the module's objects, or a
// list of objects or interfaces. An object of the module is read by selecting its fields (aliased to
// their JSON names) into the struct; an element of a list of core objects or interfaces is loaded by its ID.
func (e *emitter) ifaceObjectsResult(where string, t *goType, ctx string) error {
	elem := t
	if t.kind == kList {
		elem = t.elem
	}
	switch elem.kind {
	case kObject:
		o := e.mod.objects[elem.name]
		sel, err := objectSelection(o)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if sel == "" {
			// No field to read: selecting the id still runs the function (and reports its error).
			sel = `"id"`
		}
		e.printf("\tvar out %s\n\treturn out, q.SelectMultiple(%s).Bind(&out).Execute(%s)\n}\n\n", t.expr, sel, ctx)
	case kCoreObject, kIface:
		if t.kind != kList {
			return fmt.Errorf("%s: unsupported result %s", where, t.expr)
		}
		e.printf("\tvar ids []struct{ Id string }\n\tif err := q.Select(\"id\").Bind(&ids).Execute(%s); err != nil {\n\t\treturn nil, err\n\t}\n", ctx)
		e.printf("\tout := make(%s, 0, len(ids))\n\tfor _, x := range ids {\n", t.expr)
		if elem.kind == kIface {
			e.printf("\t\tout = append(out, load%s(x.Id))\n", elem.name)
		} else {
			deref := ""
			if elem.expr[0] != '*' {
				deref = "*"
			}
			e.printf("\t\tout = append(out, %sdag.Load%sFromID(dagger.%sID(x.Id)))\n", deref, elem.name, elem.name)
		}
		e.printf("\t}\n\treturn out, nil\n}\n\n")
	default:
		return fmt.Errorf("%s: unsupported result %s", where, t.expr)
	}
	return nil
}

// objectSelection: the arguments of SelectMultiple reading object o's fields under their JSON names
// ("Name: name"), or an error when o cannot be read that way (what its fields hold is not plain JSON,
// or some of its state is private, which the engine does not serve).
func objectSelection(o *object) (string, error) {
	if o.private {
		return "", fmt.Errorf("results of object %s are not supported in interfaces: it has private fields, which the engine does not serve", o.name)
	}
	var parts []string
	for _, f := range o.fields {
		t := f.typ
		if t.kind == kList {
			t = t.elem
		}
		if t.needsDecode() || t.kind == kObject {
			return "", fmt.Errorf("results of object %s are not supported in interfaces: its field %s holds %s (only fields of scalars, enums and lists of them can be read back)", o.name, f.goName, f.typ.expr)
		}
		parts = append(parts, strconv.Quote(f.name+": "+lowerCamel(f.name)))
	}
	return strings.Join(parts, ", "), nil
}
