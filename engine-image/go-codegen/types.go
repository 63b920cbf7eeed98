package main

// The type of a parameter, result or field, from its syntax: Go's basic
// types, slices, the module's structs and string enums, and the Dagger API's
// objects, enums and scalars (dagger.X, known from the library).

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/printer"
	"go/token"
)

func (p *parser_) typeOf(e ast.Expr) (*goType, error) {
	expr := exprString(e)
	switch t := e.(type) {
	case *ast.StarExpr:
		inner, err := p.typeOf(t.X)
		if err != nil {
			return nil, err
		}
		cp := *inner
		cp.expr = expr
		return &cp, nil
	case *ast.ArrayType:
		if t.Len != nil {
			return nil, fmt.Errorf("arrays are not supported (%s): use a slice", expr)
		}
		elem, err := p.typeOf(t.Elt)
		if err != nil {
			return nil, err
		}
		return &goType{expr: expr, kind: kList, elem: elem}, nil
	case *ast.Ident:
		switch t.Name {
		case "string":
			return &goType{expr: expr, kind: kString}, nil
		case "bool":
			return &goType{expr: expr, kind: kBool}, nil
		case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
			return &goType{expr: expr, kind: kInt}, nil
		case "float32", "float64":
			return &goType{expr: expr, kind: kFloat}, nil
		}
		if p.structs[t.Name] != nil {
			return &goType{expr: expr, kind: kObject, name: t.Name}, nil
		}
		if p.ifaceSpecs[t.Name] != nil {
			return &goType{expr: expr, kind: kIface, name: t.Name}, nil
		}
		if p.strs[t.Name] != nil {
			if p.mod.enums[t.Name] != nil {
				return &goType{expr: expr, kind: kEnum, name: t.Name}, nil
			}
			return &goType{expr: expr, kind: kString}, nil
		}
	case *ast.SelectorExpr:
		if x, ok := t.X.(*ast.Ident); ok && x.Name == "dagger" {
			if k, ok := p.lib.types[t.Sel.Name]; ok {
				return &goType{expr: expr, kind: k, name: t.Sel.Name}, nil
			}
		}
	}
	return nil, fmt.Errorf("unsupported type %s", expr)
}

func exprString(e ast.Expr) string {
	var b bytes.Buffer
	_ = printer.Fprint(&b, token.NewFileSet(), e)
	return b.String()
}
