// Package mapping turns a directory entry into the object o365prov wants in
// Entra ID: one compiled expression per target field, from the channel's
// configuration.
//
// A field is a template — ${attr} stands for a source attribute and the rest
// is literal — or an expression (github.com/expr-lang/expr) over the entry
// with the helpers of this package. Expressions are compiled once, when the
// configuration is loaded, so a bad one is reported by `o365prov check` with
// its field and position, never in the middle of a sync.
package mapping

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/o365prov/o365prov/internal/config"
)

// Entry is the source entry a Mapper reads. Attribute names are looked up
// case-insensitively, as LDAP compares them.
type Entry struct {
	DN         string
	GUID       string
	RawGUID    []byte
	Enabled    bool
	Attributes map[string][]string
}

// values returns an attribute's values.
func (e Entry) values(name string) []string {
	if v, ok := e.Attributes[name]; ok {
		return v
	}
	for k, v := range e.Attributes {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// Object is the desired state of one user or group: each mapped field with a
// value (string, []string or bool), and which of them are written only when
// the object is created. A field whose value is empty is absent.
type Object struct {
	Fields     map[string]any
	CreateOnly map[string]bool
}

// String returns a field as a single string ("" when absent).
func (o Object) String(field string) string {
	switch v := o.Fields[field].(type) {
	case string:
		return v
	case []string:
		if len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// List returns a field as a list (nil when absent).
func (o Object) List(field string) []string {
	switch v := o.Fields[field].(type) {
	case string:
		return []string{v}
	case []string:
		return v
	}
	return nil
}

// Kind is what a Mapper produces.
type Kind string

const (
	User  Kind = "user"
	Group Kind = "group"
)

// Options are the channel options that change what a field means.
type Options struct {
	// Base64ImmutableID makes immutableId the base64 of the GUID bytes
	// (Entra Connect's form) rather than the GUID text.
	Base64ImmutableID bool
}

// Mapper computes Objects from Entries. It is safe for concurrent use.
type Mapper struct {
	kind   Kind
	opts   Options
	fields []*field
	attrs  []string
	all    bool
}

type field struct {
	name       string
	kind       string // config.KindString, KindList or KindBool
	createOnly bool
	required   bool
	eval       evaluator
}

// evaluator computes a field's raw value: string, []string, bool or nil.
type evaluator interface {
	eval(e Entry, opts Options) (any, error)
}

// FieldError is a field whose mapping does not compile, for `check`.
type FieldError struct {
	Field string // e.g. "mail"
	Err   error
}

func (e FieldError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }

// Check compiles a channel's user and group mappings and returns every field
// that does not compile. config.WithMappingCheck takes it, so that `check`
// reports a bad expression together with the file's other problems.
func Check(ch *config.Channel) []config.MappingError {
	opts := Options{Base64ImmutableID: ch.Options.Base64ImmutableID}
	var out []config.MappingError
	for _, k := range []struct {
		kind Kind
		m    map[string]config.FieldMapping
	}{{User, ch.Mapping.User}, {Group, ch.Mapping.Group}} {
		_, errs := Compile(k.kind, k.m, opts)
		for _, e := range errs {
			out = append(out, config.MappingError{Kind: string(k.kind), Field: e.Field, Err: e.Err})
		}
	}
	return out
}

// Compile compiles a user or group mapping. It returns every field that does
// not compile, not just the first.
func Compile(kind Kind, m map[string]config.FieldMapping, opts Options) (*Mapper, []FieldError) {
	mp := &Mapper{kind: kind, opts: opts}
	attrs := map[string]bool{}
	var errs []FieldError
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fm := m[name]
		fk, ok := fieldKind(kind, name)
		if !ok {
			errs = append(errs, FieldError{name, fmt.Errorf("unknown %s field", kind)})
			continue
		}
		f := &field{name: name, kind: fk, createOnly: fm.CreateOnly, required: fm.Required}
		var refs []string
		var all bool
		var err error
		if fm.Expr != "" {
			f.eval, refs, all, err = compileExpr(fm.Expr)
		} else {
			f.eval, refs, err = compileTemplate(fm.Value)
		}
		if err != nil {
			errs = append(errs, FieldError{name, err})
			continue
		}
		for _, r := range refs {
			attrs[strings.ToLower(r)] = true
		}
		mp.all = mp.all || all
		mp.fields = append(mp.fields, f)
	}
	for a := range attrs {
		mp.attrs = append(mp.attrs, a)
	}
	sort.Strings(mp.attrs)
	return mp, errs
}

func fieldKind(kind Kind, name string) (string, bool) {
	if kind == Group {
		return config.GroupFieldKind(name)
	}
	return config.UserFieldKind(name)
}

// Attributes lists the source attributes the mapping reads, for the
// directory to request; AllAttributes reports that an expression names
// attributes only known at run time, so every attribute must be read.
func (m *Mapper) Attributes() []string { return append([]string(nil), m.attrs...) }

// AllAttributes reports whether every attribute must be requested.
func (m *Mapper) AllAttributes() bool { return m.all }

// Fields lists the mapped target fields.
func (m *Mapper) Fields() []string {
	names := make([]string, len(m.fields))
	for i, f := range m.fields {
		names[i] = f.name
	}
	return names
}

// Map computes the desired object for an entry. An error names the entry's
// field that failed (an expression error, a required field that is empty,
// a value that is not of the field's kind); the entry should be reported
// and skipped.
func (m *Mapper) Map(e Entry) (Object, error) {
	o := Object{Fields: make(map[string]any, len(m.fields)), CreateOnly: map[string]bool{}}
	for _, f := range m.fields {
		raw, err := f.eval.eval(e, m.opts)
		if err != nil {
			return Object{}, fmt.Errorf("map %s of %s: %w", f.name, e.DN, err)
		}
		v, err := convert(raw, f.kind)
		if err != nil {
			return Object{}, fmt.Errorf("map %s of %s: %w", f.name, e.DN, err)
		}
		if v == nil {
			if f.required {
				return Object{}, fmt.Errorf("map %s of %s: required but empty", f.name, e.DN)
			}
			continue
		}
		o.Fields[f.name] = v
		if f.createOnly {
			o.CreateOnly[f.name] = true
		}
	}
	return o, nil
}

// immutableID is onPremisesImmutableId for an entry under the options.
func immutableID(e Entry, opts Options) string {
	if opts.Base64ImmutableID && len(e.RawGUID) > 0 {
		return base64Std(e.RawGUID)
	}
	if e.GUID != "" {
		return e.GUID
	}
	return hex.EncodeToString(e.RawGUID)
}
