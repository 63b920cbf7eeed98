package main

// Reading a module's package main (go/ast only): its structs and their
// methods, string enums, the constructor New, doc comments and pragmas.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

type parser_ struct {
	fset       *token.FileSet
	lib        *library
	files      []*ast.File
	structs    map[string]*ast.TypeSpec
	strs       map[string]*ast.TypeSpec // type X string
	ifaceSpecs map[string]*ast.TypeSpec // type X interface { DaggerObject; … }
	docs       map[string]string
	mod        *module
}

func parseModule(dir, name string, lib *library) (*module, error) {
	p := &parser_{fset: token.NewFileSet(), lib: lib, structs: map[string]*ast.TypeSpec{}, strs: map[string]*ast.TypeSpec{}, ifaceSpecs: map[string]*ast.TypeSpec{}, docs: map[string]string{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") || n == "dagger.gen.go" {
			continue
		}
		f, err := parser.ParseFile(p.fset, filepath.Join(dir, n), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if f.Name.Name == "main" {
			p.files = append(p.files, f)
		}
	}
	p.mod = &module{name: name, objects: map[string]*object{}, enums: map[string]*enum{}, ifaces: map[string]*iface{}}
	if len(p.files) == 0 {
		return p.mod, nil
	}
	p.collectTypes()
	if err := p.collectEnums(); err != nil {
		return nil, err
	}
	for n := range p.structs {
		if camel(n) == camel(name) {
			p.mod.mainName = n
		}
	}
	if p.mod.mainName == "" {
		return nil, fmt.Errorf("no struct for the main object of module %q: declare `type %s struct{}`", name, camel(name))
	}
	for n, ts := range p.structs {
		if err := p.addObject(n, ts); err != nil {
			return nil, err
		}
	}
	for n, ts := range p.ifaceSpecs {
		if err := p.addIface(n, ts); err != nil {
			return nil, err
		}
	}
	if err := p.collectFuncs(); err != nil {
		return nil, err
	}
	return p.mod, nil
}

func (p *parser_) collectTypes() {
	for _, f := range p.files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				if !ts.Name.IsExported() || ts.TypeParams != nil || ts.Assign.IsValid() {
					continue
				}
				doc := ts.Doc
				if doc == nil {
					doc = gd.Doc
				}
				p.docs[ts.Name.Name] = doc.Text()
				switch t := ts.Type.(type) {
				case *ast.StructType:
					p.structs[ts.Name.Name] = ts
				case *ast.Ident:
					if t.Name == "string" {
						p.strs[ts.Name.Name] = ts
					}
				case *ast.InterfaceType:
					if embedsDaggerObject(t) {
						p.ifaceSpecs[ts.Name.Name] = ts
					}
				}
			}
		}
		if f.Doc != nil {
			for _, decl := range f.Decls {
				if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
					for _, spec := range gd.Specs {
						if ts := spec.(*ast.TypeSpec); camel(ts.Name.Name) == camel(p.mod.name) {
							p.mod.doc = strings.TrimSpace(f.Doc.Text())
						}
					}
				}
			}
		}
	}
}

func (p *parser_) collectEnums() error {
	for _, f := range p.files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				id, ok := vs.Type.(*ast.Ident)
				if !ok || p.strs[id.Name] == nil {
					continue
				}
				e := p.mod.enums[id.Name]
				if e == nil {
					doc, _ := pragmas(p.docs[id.Name])
					e = &enum{name: id.Name, doc: doc, pos: int(p.strs[id.Name].Pos())}
					p.mod.enums[id.Name] = e
				}
				for i, n := range vs.Names {
					if i >= len(vs.Values) {
						return fmt.Errorf("%s: enum constant %s needs a string value", p.fset.Position(n.Pos()), n.Name)
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						return fmt.Errorf("%s: enum constant %s needs a string literal value", p.fset.Position(n.Pos()), n.Name)
					}
					v, _ := strconv.Unquote(lit.Value)
					text := vs.Doc.Text()
					if text == "" {
						text = vs.Comment.Text()
					}
					doc, _ := pragmas(text)
					e.members = append(e.members, &enumMember{constName: n.Name, value: v, doc: doc})
				}
			}
		}
	}
	return nil
}

func (p *parser_) addObject(name string, ts *ast.TypeSpec) error {
	doc, _ := pragmas(p.docs[name])
	o := &object{name: name, doc: doc, pos: int(ts.Pos())}
	for _, fl := range ts.Type.(*ast.StructType).Fields.List {
		for _, n := range fl.Names {
			if !n.IsExported() {
				continue
			}
			jsonName := n.Name
			if fl.Tag != nil {
				tag, _ := strconv.Unquote(fl.Tag.Value)
				if j, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ","); j == "-" {
					continue
				} else if j != "" {
					jsonName = j
				}
			}
			text := fl.Doc.Text()
			if strings.TrimSpace(text) == "" {
				text = fl.Comment.Text()
			}
			fdoc, prag := pragmas(text)
			if _, private := prag["private"]; private {
				o.private = true
				continue
			}
			t, err := p.typeOf(fl.Type)
			if err != nil {
				return fmt.Errorf("%s: field %s.%s: %w", p.fset.Position(n.Pos()), name, n.Name, err)
			}
			o.fields = append(o.fields, &field{goName: n.Name, name: jsonName, doc: fdoc, typ: t})
		}
	}
	p.mod.objects[name] = o
	return nil
}

func (p *parser_) collectFuncs() error {
	for _, f := range p.files {
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || !fd.Name.IsExported() {
				continue
			}
			if fd.Recv == nil {
				if fd.Name.Name != "New" {
					continue
				}
				fn, err := p.function(f, fd)
				if err != nil {
					return err
				}
				if fn.result == nil || fn.result.kind != kObject || fn.result.name != p.mod.mainName {
					return fmt.Errorf("%s: New must return *%s", p.fset.Position(fd.Pos()), p.mod.mainName)
				}
				p.mod.constructor = fn
				continue
			}
			recv := fd.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			id, ok := recv.(*ast.Ident)
			if !ok || p.mod.objects[id.Name] == nil {
				continue
			}
			fn, err := p.function(f, fd)
			if err != nil {
				return err
			}
			p.mod.objects[id.Name].methods = append(p.mod.objects[id.Name].methods, fn)
		}
	}
	return nil
}

func (p *parser_) function(f *ast.File, fd *ast.FuncDecl) (*function, error) {
	doc, prag := pragmas(fd.Doc.Text())
	fn := &function{goName: fd.Name.Name, doc: doc}
	if d, ok := prag["deprecated"]; ok {
		s := fmt.Sprint(d)
		if d == nil {
			s = ""
		}
		fn.deprecated = &s
	}
	if c, ok := prag["cache"]; ok {
		fn.cache = fmt.Sprint(c)
	}
	where := func(pos token.Pos) string { return p.fset.Position(pos).String() }
	var fields []*ast.Field
	var names []*ast.Ident
	for _, fl := range fd.Type.Params.List {
		for _, n := range fl.Names {
			fields = append(fields, fl)
			names = append(names, n)
		}
		if len(fl.Names) == 0 {
			return nil, fmt.Errorf("%s: %s: every parameter needs a name", where(fl.Pos()), fd.Name.Name)
		}
	}
	for i, fl := range fields {
		n := names[i]
		typeExpr := fl.Type
		prm := &param{name: n.Name}
		if ell, ok := typeExpr.(*ast.Ellipsis); ok {
			prm.variadic = true
			typeExpr = &ast.ArrayType{Elt: ell.Elt}
		}
		if sel, ok := typeExpr.(*ast.SelectorExpr); ok && exprString(sel) == "context.Context" {
			prm.isContext = true
			fn.params = append(fn.params, prm)
			continue
		}
		t, err := p.typeOf(typeExpr)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: parameter %s: %w", where(n.Pos()), fd.Name.Name, n.Name, err)
		}
		prm.typ = t
		text := p.paramComment(f, fd, fields, i)
		pdoc, pp := pragmas(text)
		prm.doc = pdoc
		if _, ok := pp["optional"]; ok {
			prm.optional = true
		}
		if v, ok := pp["default"]; ok {
			b, err := jsonText(v)
			if err != nil {
				return nil, fmt.Errorf("%s: parameter %s: +default: %w", where(n.Pos()), n.Name, err)
			}
			prm.defaultJSON = b
			prm.optional = true
		}
		if v, ok := pp["defaultPath"]; ok {
			prm.defaultPath = fmt.Sprint(v)
			prm.optional = true
		}
		if v, ok := pp["ignore"]; ok {
			if list, ok := v.([]any); ok {
				for _, x := range list {
					prm.ignore = append(prm.ignore, fmt.Sprint(x))
				}
			}
		}
		fn.params = append(fn.params, prm)
	}
	if fd.Type.Results != nil {
		var results []ast.Expr
		for _, r := range fd.Type.Results.List {
			for range max(1, len(r.Names)) {
				results = append(results, r.Type)
			}
		}
		isErr := func(e ast.Expr) bool { id, ok := e.(*ast.Ident); return ok && id.Name == "error" }
		switch {
		case len(results) == 1 && isErr(results[0]):
			fn.returnsErr = true
		case len(results) == 2 && isErr(results[1]):
			fn.returnsErr = true
			fallthrough
		case len(results) == 1:
			t, err := p.typeOf(results[0])
			if err != nil {
				return nil, fmt.Errorf("%s: %s: result: %w", where(fd.Pos()), fd.Name.Name, err)
			}
			fn.result = t
		case len(results) > 1:
			return nil, fmt.Errorf("%s: %s: return a value, an error, or a value and an error", where(fd.Pos()), fd.Name.Name)
		}
	}
	return fn, nil
}

// paramComment: the comment just above a parameter, or at the end of its line.
func (p *parser_) paramComment(f *ast.File, fd *ast.FuncDecl, fields []*ast.Field, i int) string {
	line := func(pos token.Pos) int { return p.fset.Position(pos).Line }
	start := fd.Type.Params.Opening
	if i > 0 {
		start = fields[i-1].End()
	}
	l := line(fields[i].Pos())
	var out []string
	for _, cg := range f.Comments {
		if cg.Pos() > start && cg.End() < fields[i].Pos() && line(cg.End()) >= l-1 {
			out = append(out, cg.Text())
		}
	}
	if len(out) == 0 {
		end := fd.Type.Params.Closing
		if i+1 < len(fields) {
			end = fields[i+1].Pos()
		}
		for _, cg := range f.Comments {
			if cg.Pos() > fields[i].End() && cg.Pos() < end && line(cg.Pos()) == l {
				out = append(out, cg.Text())
			}
		}
	}
	return strings.Join(out, "\n")
}
