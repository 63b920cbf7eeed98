package main

// The module as read from its Go source: what registration and dispatch need.

type kind int

const (
	kString kind = iota
	kInt
	kFloat
	kBool
	kVoid
	kList
	kCoreObject // an object of the Dagger API (dagger.Container, …)
	kCoreEnum   // an enum of the Dagger API (dagger.NetworkProtocol, …)
	kCoreScalar // a scalar of the Dagger API (dagger.Platform, dagger.JSON, …)
	kObject     // a struct of this module
	kEnum       // a string type of this module with constants
	kIface      // an interface of this module (embedding DaggerObject)
)

// goType is a type as written in a signature or struct field.
type goType struct {
	expr string // the Go type expression, e.g. "*dagger.Container", "[]string"
	kind kind
	name string // object/enum/scalar name (core: the API's; local: the Go name)
	elem *goType
}

// needsDecode: values of the type cannot come from plain JSON (core objects arrive as IDs).
func (t *goType) needsDecode() bool {
	switch t.kind {
	case kCoreObject, kIface:
		return true
	case kList:
		return t.elem.needsDecode()
	}
	return false
}

type param struct {
	name        string
	typ         *goType
	isContext   bool
	variadic    bool
	doc         string
	optional    bool
	defaultJSON string // JSON text of +default, "" when none
	defaultPath string
	ignore      []string
}

type function struct {
	goName     string
	doc        string
	params     []*param
	result     *goType // nil: no value (void)
	returnsErr bool
	deprecated *string
	cache      string // +cache: "never", "session" or a time to live ("10m"); "" = the default
}

type field struct {
	goName string
	name   string // JSON name (json tag, else the Go name)
	doc    string
	typ    *goType
}

type object struct {
	name    string
	doc     string
	fields  []*field
	methods []*function
	pos     int
	private bool // some of its state is in +private fields (not served, not in fields)
}

type enumMember struct {
	constName string
	value     string
	doc       string
}

type enum struct {
	name    string
	doc     string
	members []*enumMember
	pos     int
}

// iface: a Go interface of the module embedding DaggerObject, registered as a
// Dagger interface; its methods follow the client-side signature style.
type iface struct {
	name    string
	doc     string
	methods []*function
	pos     int
}

type module struct {
	name        string // dagger.json name
	mainName    string // the main object's Go name
	doc         string // package doc of the main object's file
	objects     map[string]*object
	enums       map[string]*enum
	ifaces      map[string]*iface
	constructor *function
}
