package main

// package main's dagger.gen.go: `dag`, main() reading the current function
// call, registration of the module's types (parentName ""), and dispatch of a
// call to the user's function with its arguments decoded from JSON.

import (
	"fmt"
	"go/format"
	"sort"
	"strconv"
	"strings"
)

type emitter struct {
	mod      *module
	b        strings.Builder
	decoders map[string]string // type expression → decoder func name
	pending  []*goType
	lib      *library
}

func mainSource(mod *module, lib *library, importPath string) ([]byte, error) {
	e := &emitter{mod: mod, decoders: map[string]string{}, lib: lib}
	e.printf("%spackage main\n\nimport (\n", generatedHeader)
	for _, imp := range []string{"context", "encoding/json", "errors", "fmt", "os", "sort", "github.com/dagger/querybuilder", "github.com/vektah/gqlparser/v2/gqlerror", importPath + "/internal/dagger"} {
		e.printf("\t%q\n", imp)
	}
	e.printf(")\n\n%s", runtimePart)
	if mod.mainName == "" {
		e.printf("func register() *dagger.Module { return dag.Module() }\n\n")
		e.printf("func invoke(ctx context.Context, parentJSON []byte, parentName, fnName string, inputArgs map[string][]byte) (any, error) {\n")
		e.printf("\tif parentName == \"\" {\n\t\treturn register(), nil\n\t}\n\treturn nil, fmt.Errorf(\"module %%q has no code yet\", %q)\n}\n", mod.name)
	} else {
		if err := e.registration(); err != nil {
			return nil, err
		}
		if err := e.invoke(); err != nil {
			return nil, err
		}
		if err := e.ifaceClients(); err != nil {
			return nil, err
		}
		e.unmarshalers()
		e.decoderFuncs()
	}
	src := []byte(e.b.String())
	out, err := format.Source(src)
	if err != nil {
		return src, fmt.Errorf("formatting the generated code: %w", err)
	}
	return out, nil
}

func (e *emitter) printf(f string, args ...any) { fmt.Fprintf(&e.b, f, args...) }

// runtimePart: the fixed part of the generated main.
const runtimePart = `var dag = dagger.Connect()

// DaggerObject is what every object of the Dagger API implements.
type DaggerObject = querybuilder.GraphQLMarshaller

// ExecError is the error of a failed withExec.
type ExecError = dagger.ExecError

func main() {
	if err := dispatch(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

func dispatch(ctx context.Context) (rerr error) {
	call := dag.CurrentFunctionCall()
	defer func() {
		if rerr != nil {
			if err := call.ReturnError(ctx, toDaggerError(rerr)); err != nil {
				fmt.Fprintln(os.Stderr, "returning the error to the engine failed:", err)
			}
		}
	}()
	parentName, err := call.ParentName(ctx)
	if err != nil {
		return fmt.Errorf("read the call's parent name: %w", err)
	}
	fnName, err := call.Name(ctx)
	if err != nil {
		return fmt.Errorf("read the call's function name: %w", err)
	}
	parentJSON, err := call.Parent(ctx)
	if err != nil {
		return fmt.Errorf("read the call's parent: %w", err)
	}
	args, err := call.InputArgs(ctx)
	if err != nil {
		return fmt.Errorf("read the call's arguments: %w", err)
	}
	inputArgs := map[string][]byte{}
	for _, arg := range args {
		name, err := arg.Name(ctx)
		if err != nil {
			return fmt.Errorf("read an argument's name: %w", err)
		}
		value, err := arg.Value(ctx)
		if err != nil {
			return fmt.Errorf("read argument %s: %w", name, err)
		}
		inputArgs[name] = []byte(value)
	}
	result, err := invoke(ctx, []byte(parentJSON), parentName, fnName, inputArgs)
	if err != nil {
		return err
	}
	out, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("encode the result: %w", err)
	}
	if err := call.ReturnValue(ctx, dagger.JSON(out)); err != nil {
		return fmt.Errorf("return the result to the engine: %w", err)
	}
	return nil
}

// toDaggerError keeps a GraphQL error's message and extensions (an exec's
// exit code, stdout and stderr) as the returned Error's values.
func toDaggerError(err error) *dagger.Error {
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Message == err.Error() {
		out := dag.Error(gqlErr.Message)
		keys := make([]string, 0, len(gqlErr.Extensions))
		for k := range gqlErr.Extensions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v, err := json.Marshal(gqlErr.Extensions[k]); err == nil {
				out = out.WithValue(k, dagger.JSON(v))
			}
		}
		return out
	}
	return dag.Error(err.Error())
}

`

func (e *emitter) typeDef(t *goType, optional bool) string {
	var s string
	switch t.kind {
	case kString:
		s = "dag.TypeDef().WithKind(dagger.TypeDefKindStringKind)"
	case kInt:
		s = "dag.TypeDef().WithKind(dagger.TypeDefKindIntegerKind)"
	case kFloat:
		s = "dag.TypeDef().WithKind(dagger.TypeDefKindFloatKind)"
	case kBool:
		s = "dag.TypeDef().WithKind(dagger.TypeDefKindBooleanKind)"
	case kVoid:
		s = "dag.TypeDef().WithKind(dagger.TypeDefKindVoidKind)"
		optional = true
	case kList:
		s = fmt.Sprintf("dag.TypeDef().WithListOf(%s)", e.typeDef(t.elem, false))
	case kCoreObject, kObject:
		s = fmt.Sprintf("dag.TypeDef().WithObject(%q)", t.name)
	case kCoreEnum, kEnum:
		s = fmt.Sprintf("dag.TypeDef().WithEnum(%q)", t.name)
	case kCoreScalar:
		s = fmt.Sprintf("dag.TypeDef().WithScalar(%q)", t.name)
	case kIface:
		s = fmt.Sprintf("dag.TypeDef().WithInterface(%q)", t.name)
	}
	if optional {
		s += ".WithOptional(true)"
	}
	return s
}

func (e *emitter) functionDef(name string, fn *function) string {
	ret := &goType{kind: kVoid}
	if fn.result != nil {
		ret = fn.result
	}
	s := fmt.Sprintf("dag.Function(%q, %s)", name, e.typeDef(ret, false))
	if fn.doc != "" {
		s += fmt.Sprintf(".\n\t\tWithDescription(%q)", fn.doc)
	}
	if fn.deprecated != nil {
		s += fmt.Sprintf(".\n\t\tWithDeprecated(dagger.FunctionWithDeprecatedOpts{Reason: %q})", *fn.deprecated)
	}
	switch fn.cache {
	case "":
	case "never":
		s += ".\n\t\tWithCachePolicy(dagger.FunctionCachePolicyNever)"
	case "session":
		s += ".\n\t\tWithCachePolicy(dagger.FunctionCachePolicyPerSession)"
	default:
		s += fmt.Sprintf(".\n\t\tWithCachePolicy(dagger.FunctionCachePolicyDefault, dagger.FunctionWithCachePolicyOpts{TimeToLive: %q})", fn.cache)
	}
	for _, p := range fn.params {
		if p.isContext {
			continue
		}
		var opts []string
		if p.doc != "" {
			opts = append(opts, fmt.Sprintf("Description: %q", p.doc))
		}
		if p.defaultJSON != "" {
			opts = append(opts, fmt.Sprintf("DefaultValue: dagger.JSON(%q)", p.defaultJSON))
		}
		if p.defaultPath != "" {
			opts = append(opts, fmt.Sprintf("DefaultPath: %q", p.defaultPath))
		}
		if len(p.ignore) > 0 {
			qs := make([]string, len(p.ignore))
			for i, x := range p.ignore {
				qs[i] = strconv.Quote(x)
			}
			opts = append(opts, fmt.Sprintf("Ignore: []string{%s}", strings.Join(qs, ", ")))
		}
		optText := ""
		if len(opts) > 0 {
			optText = ", dagger.FunctionWithArgOpts{" + strings.Join(opts, ", ") + "}"
		}
		s += fmt.Sprintf(".\n\t\tWithArg(%q, %s%s)", p.name, e.typeDef(p.typ, p.optional), optText)
	}
	return s
}

// reachable: the module's objects and enums used from the main object, main first.
func (e *emitter) reachable() ([]*object, []*enum) {
	seenO := map[string]bool{}
	seenE := map[string]bool{}
	var objs []*object
	var enums []*enum
	var visitType func(t *goType)
	var visitObj func(name string)
	visitType = func(t *goType) {
		if t == nil {
			return
		}
		switch t.kind {
		case kList:
			visitType(t.elem)
		case kObject:
			visitObj(t.name)
		case kEnum:
			if !seenE[t.name] {
				seenE[t.name] = true
				enums = append(enums, e.mod.enums[t.name])
			}
		}
	}
	visitFn := func(fn *function) {
		visitType(fn.result)
		for _, p := range fn.params {
			visitType(p.typ)
		}
	}
	visitObj = func(name string) {
		if seenO[name] {
			return
		}
		seenO[name] = true
		o := e.mod.objects[name]
		objs = append(objs, o)
		for _, f := range o.fields {
			visitType(f.typ)
		}
		for _, m := range o.methods {
			visitFn(m)
		}
	}
	visitObj(e.mod.mainName)
	if e.mod.constructor != nil {
		visitFn(e.mod.constructor)
	}
	// An object only an interface's method returns is registered too.
	for _, it := range e.usedIfaces() {
		for _, m := range it.methods {
			visitFn(m)
		}
	}
	sort.SliceStable(objs[1:], func(i, j int) bool { return objs[1+i].pos < objs[1+j].pos })
	sort.SliceStable(enums, func(i, j int) bool { return enums[i].pos < enums[j].pos })
	return objs, enums
}

func (e *emitter) registration() error {
	objs, enums := e.reachable()
	e.printf("func register() *dagger.Module {\n\tmod := dag.Module()\n")
	if e.mod.doc != "" {
		e.printf("\tmod = mod.WithDescription(%q)\n", e.mod.doc)
	}
	for _, o := range objs {
		opts := ""
		if o.doc != "" {
			opts = fmt.Sprintf(", dagger.TypeDefWithObjectOpts{Description: %q}", o.doc)
		}
		e.printf("\tmod = mod.WithObject(dag.TypeDef().WithObject(%q%s)", o.name, opts)
		for _, m := range o.methods {
			e.printf(".\n\t\tWithFunction(%s)", e.functionDef(m.goName, m))
		}
		for _, f := range o.fields {
			fopts := ""
			if f.doc != "" {
				fopts = fmt.Sprintf(", dagger.TypeDefWithFieldOpts{Description: %q}", f.doc)
			}
			e.printf(".\n\t\tWithField(%q, %s%s)", f.name, e.typeDef(f.typ, false), fopts)
		}
		if o.name == e.mod.mainName && e.mod.constructor != nil {
			e.printf(".\n\t\tWithConstructor(%s)", e.functionDef("", e.mod.constructor))
		}
		e.printf(")\n")
	}
	for _, en := range enums {
		opts := ""
		if en.doc != "" {
			opts = fmt.Sprintf(", dagger.TypeDefWithEnumOpts{Description: %q}", en.doc)
		}
		e.printf("\tmod = mod.WithEnum(dag.TypeDef().WithEnum(%q%s)", en.name, opts)
		for _, m := range en.members {
			e.printf(".\n\t\tWithEnumMember(%q, dagger.TypeDefWithEnumMemberOpts{Value: %q, Description: %q})", m.value, m.value, m.doc)
		}
		e.printf(")\n")
	}
	e.registerIfaces()
	e.printf("\treturn mod\n}\n\n")
	return nil
}
