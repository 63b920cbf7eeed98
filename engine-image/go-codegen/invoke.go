package main

// Dispatch: invoke() switches on the parent object and the function name,
// decodes the parent and the arguments, and calls the user's Go function.

import (
	"fmt"
	"sort"
)

func (e *emitter) invoke() error {
	objs, _ := e.reachable()
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].name < objs[j].name })
	e.printf("func invoke(ctx context.Context, parentJSON []byte, parentName, fnName string, inputArgs map[string][]byte) (_ any, err error) {\n")
	e.printf("\t_ = inputArgs\n\tswitch parentName {\n\tcase \"\":\n\t\treturn register(), nil\n")
	for _, o := range objs {
		e.printf("\tcase %q:\n\t\tswitch fnName {\n", o.name)
		for _, m := range o.methods {
			e.printf("\t\tcase %q:\n", m.goName)
			e.printf("\t\t\tvar parent %s\n", o.name)
			e.printf("\t\t\tif len(parentJSON) > 0 {\n\t\t\t\tif err := json.Unmarshal(parentJSON, &parent); err != nil {\n\t\t\t\t\treturn nil, fmt.Errorf(\"decode the %s object: %%w\", err)\n\t\t\t\t}\n\t\t\t}\n", o.name)
			e.call("parent."+m.goName, m)
		}
		if o.name == e.mod.mainName && e.mod.constructor != nil {
			e.printf("\t\tcase \"\":\n")
			e.call("New", e.mod.constructor)
		}
		e.printf("\t\tdefault:\n\t\t\treturn nil, fmt.Errorf(\"unknown function %%s of %%s\", fnName, parentName)\n\t\t}\n")
	}
	e.printf("\tdefault:\n\t\treturn nil, fmt.Errorf(\"unknown object %%s\", parentName)\n\t}\n}\n\n")
	return nil
}

// call: decode each argument into a variable, then call and return.
func (e *emitter) call(target string, fn *function) {
	var args []string
	for i, p := range fn.params {
		if p.isContext {
			args = append(args, "ctx")
			continue
		}
		v := fmt.Sprintf("arg%d", i)
		e.printf("\t\t\tvar %s %s\n", v, p.typ.expr)
		e.printf("\t\t\tif raw, ok := inputArgs[%q]; ok {\n", p.name)
		if p.typ.needsDecode() {
			e.printf("\t\t\t\tif %s, err = %s(raw); err != nil {\n", v, e.decoder(p.typ))
		} else {
			e.printf("\t\t\t\tif err := json.Unmarshal(raw, &%s); err != nil {\n", v)
		}
		e.printf("\t\t\t\t\treturn nil, fmt.Errorf(\"decode argument %s: %%w\", err)\n\t\t\t\t}\n\t\t\t}\n", p.name)
		if p.variadic {
			v += "..."
		}
		args = append(args, v)
	}
	callExpr := fmt.Sprintf("%s(%s)", target, join(args))
	switch {
	case fn.result != nil && fn.returnsErr:
		e.printf("\t\t\treturn %s\n", callExpr)
	case fn.result != nil:
		e.printf("\t\t\treturn %s, nil\n", callExpr)
	case fn.returnsErr:
		e.printf("\t\t\treturn nil, %s\n", callExpr)
	default:
		e.printf("\t\t\t%s\n\t\t\treturn nil, nil\n", callExpr)
	}
}

func join(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// decoder: the name of a func decoding JSON into a value of t (core objects by ID).
func (e *emitter) decoder(t *goType) string {
	if name, ok := e.decoders[t.expr]; ok {
		return name
	}
	name := fmt.Sprintf("decode%d", len(e.decoders))
	e.decoders[t.expr] = name
	e.pending = append(e.pending, t)
	if t.kind == kList {
		e.decoder(t.elem)
	}
	return name
}

func (e *emitter) decoderFuncs() {
	for i := 0; i < len(e.pending); i++ {
		t := e.pending[i]
		name := e.decoders[t.expr]
		e.printf("func %s(raw []byte) (out %s, err error) {\n", name, t.expr)
		switch t.kind {
		case kCoreObject:
			e.printf("\tvar id string\n\tif err := json.Unmarshal(raw, &id); err != nil {\n\t\treturn out, err\n\t}\n")
			e.printf("\tif id == \"\" {\n\t\treturn out, nil\n\t}\n")
			deref := ""
			if t.expr[0] != '*' {
				deref = "*"
			}
			e.printf("\treturn %sdag.Load%sFromID(dagger.%sID(id)), nil\n", deref, t.name, t.name)
		case kIface:
			e.printf("\tvar id string\n\tif err := json.Unmarshal(raw, &id); err != nil {\n\t\treturn out, err\n\t}\n")
			e.printf("\tif id == \"\" {\n\t\treturn out, nil\n\t}\n\treturn load%s(id), nil\n", t.name)
		case kList:
			e.printf("\tvar items []json.RawMessage\n\tif err := json.Unmarshal(raw, &items); err != nil {\n\t\treturn out, err\n\t}\n")
			e.printf("\tfor _, item := range items {\n")
			if t.elem.needsDecode() {
				e.printf("\t\tv, err := %s(item)\n\t\tif err != nil {\n\t\t\treturn out, err\n\t\t}\n", e.decoders[t.elem.expr])
			} else {
				e.printf("\t\tvar v %s\n\t\tif err := json.Unmarshal(item, &v); err != nil {\n\t\t\treturn out, err\n\t\t}\n", t.elem.expr)
			}
			e.printf("\t\tout = append(out, v)\n\t}\n\treturn out, nil\n")
		default:
			e.printf("\terr = json.Unmarshal(raw, &out)\n\treturn out, err\n")
		}
		e.printf("}\n\n")
	}
}

// unmarshalers: UnmarshalJSON for the module's objects holding core objects (stored as IDs).
func (e *emitter) unmarshalers() {
	objs, _ := e.reachable()
	for _, o := range objs {
		custom := false
		for _, f := range o.fields {
			custom = custom || f.typ.needsDecode()
		}
		if !custom {
			continue
		}
		e.printf("func (r *%s) UnmarshalJSON(bs []byte) error {\n\tvar fields map[string]json.RawMessage\n", o.name)
		e.printf("\tif err := json.Unmarshal(bs, &fields); err != nil {\n\t\treturn err\n\t}\n")
		for _, f := range o.fields {
			e.printf("\tif raw, ok := fields[%q]; ok && string(raw) != \"null\" {\n", f.name)
			if f.typ.needsDecode() {
				e.printf("\t\tv, err := %s(raw)\n\t\tif err != nil {\n\t\t\treturn fmt.Errorf(\"field %s: %%w\", err)\n\t\t}\n\t\tr.%s = v\n", e.decoder(f.typ), f.name, f.goName)
			} else {
				e.printf("\t\tif err := json.Unmarshal(raw, &r.%s); err != nil {\n\t\t\treturn fmt.Errorf(\"field %s: %%w\", err)\n\t\t}\n", f.goName, f.name)
			}
			e.printf("\t}\n")
		}
		e.printf("\treturn nil\n}\n\n")
	}
}
