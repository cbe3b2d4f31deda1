package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Option changes how a configuration is read; tests use them to supply the
// environment and files secret references read.
type Option func(*parseOptions)

type parseOptions struct {
	res          resolver
	checkMapping func(*Channel) []MappingError
}

// WithEnv makes ${env:NAME} read from lookup instead of the process
// environment.
func WithEnv(lookup func(string) (string, bool)) Option {
	return func(o *parseOptions) { o.res.getenv = lookup }
}

// WithFiles makes ${file:PATH} read through read instead of os.ReadFile.
func WithFiles(read func(string) ([]byte, error)) Option {
	return func(o *parseOptions) { o.res.readFile = read }
}

// MappingError is a mapped field that does not compile.
type MappingError struct {
	Kind  string // user or group
	Field string // the target field, e.g. mail
	Err   error
}

// WithMappingCheck has the configuration's mappings compiled by check as
// part of reading it, so that an expression that does not compile is
// reported together with every other problem of the file, at its line.
// o365prov passes mapping.Check (config cannot import the package that
// compiles expressions: it imports config).
func WithMappingCheck(check func(*Channel) []MappingError) Option {
	return func(o *parseOptions) { o.checkMapping = check }
}

// Load reads, expands, defaults and validates a configuration file. When
// anything is wrong the error is a *Problems listing every problem with its
// line; the returned Config is then nil.
func Load(path string, opts ...Option) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(path, data, opts...)
}

// Parse is Load for data already read; name is used in messages.
func Parse(name string, data []byte, opts ...Option) (*Config, error) {
	o := parseOptions{res: osResolver()}
	for _, opt := range opts {
		opt(&o)
	}
	ps := newProblemSet(name)
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Problems{List: []Problem{syntaxProblem(name, data, err)}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Problems{List: []Problem{{File: name, Line: root.Line, Message: "the file is empty or not a mapping (start with state:, target: and channels:)"}}}
	}
	w := walker{ps: ps, res: o.res}
	ps.lines[""] = root.Line
	w.walk(root, reflect.TypeOf(Config{}), "")

	cfg := &Config{Target: defaultTarget(), File: name}
	if err := root.Decode(cfg); err != nil {
		// The walk nulls every value it finds wrong, so this is a value
		// shape it did not foresee; report it rather than lose it.
		ps.add("", "%v", err)
		return nil, ps.err()
	}
	cfg.fill()
	validate(cfg, ps)
	// Mappings are compiled even when the rest has problems: every problem
	// is reported in one run.
	if o.checkMapping != nil {
		for i := range cfg.Channels {
			for _, e := range o.checkMapping(&cfg.Channels[i]) {
				ps.add(join(index("channels", i), "mapping."+e.Kind+"."+e.Field), "%v", e.Err)
			}
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	cfg.positions = ps.lines
	return cfg, nil
}

// syntaxProblem places a YAML syntax error at its line, so that it reads
// FILE:LINE: like every other problem.
func syntaxProblem(name string, data []byte, err error) Problem {
	var le *yaml.LoadError
	if errors.As(err, &le) && le.Mark.Line > 0 {
		msg := le.Message
		if i := le.Mark.Index; i >= 0 && i < len(data) && data[i] == '\t' {
			msg += ": a tab (YAML is indented with spaces only)"
		}
		if le.ContextMsg != "" && le.ContextMark.Line > 0 {
			msg = fmt.Sprintf("%s (%s at line %d)", msg, le.ContextMsg, le.ContextMark.Line)
		}
		if le.Mark.Column > 0 {
			msg = fmt.Sprintf("column %d: %s", le.Mark.Column, msg)
		}
		return Problem{File: name, Line: le.Mark.Line, Message: "not valid YAML: " + msg}
	}
	return Problem{File: name, Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// walker checks the YAML tree against the Go types before decoding: it
// records each field's line, reports unknown fields and values of the wrong
// type, expands secret references, and replaces every wrong value with null
// so that decoding cannot fail and validation still sees the rest.
type walker struct {
	ps  *problemSet
	res resolver
}

var (
	durationType     = reflect.TypeOf(time.Duration(0))
	secretType       = reflect.TypeOf(Secret{})
	fieldMappingType = reflect.TypeOf(FieldMapping{})
)

func (w walker) walk(n *yaml.Node, t reflect.Type, path string) {
	w.ps.lines[path] = n.Line
	if n.Kind == yaml.AliasNode {
		w.fail(n, path, "aliases are not supported here (write the value out)")
		return
	}
	if isNull(n) {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == fieldMappingType:
		w.fieldMapping(n, path)
	case t == secretType, t == durationType:
		w.scalar(n, t, path)
	case t.Kind() == reflect.Struct:
		w.structure(n, t, path)
	case t.Kind() == reflect.Slice:
		w.sequence(n, t, path)
	case t.Kind() == reflect.Map:
		w.mapping(n, t, path)
	default:
		w.scalar(n, t, path)
	}
}

func (w walker) structure(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, "want a mapping of fields (%s)", strings.Join(yamlFields(t), ", "))
		return
	}
	fields := yamlFieldIndex(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		f, ok := fields[k.Value]
		if !ok {
			w.ps.lines[p] = k.Line
			w.ps.add(p, "unknown field (allowed: %s)", strings.Join(yamlFields(t), ", "))
			continue
		}
		w.walk(v, f.Type, p)
		w.ps.lines[p] = k.Line
	}
}

func (w walker) sequence(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.SequenceNode {
		w.fail(n, path, "want a list")
		return
	}
	for i, c := range n.Content {
		w.walk(c, t.Elem(), index(path, i))
	}
}

func (w walker) mapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, "want a mapping")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		w.ps.lines[p] = k.Line
		if t.Elem() == fieldMappingType && isNull(v) {
			// A field mapped to nothing is unmapped; make it an empty
			// string so it replaces the default rather than merging.
			v.Kind, v.Tag, v.Value = yaml.ScalarNode, "!!str", ""
			continue
		}
		w.walk(v, t.Elem(), p)
		w.ps.lines[p] = k.Line
	}
}

func (w walker) fieldMapping(n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		w.scalar(n, reflect.TypeOf(""), path)
		return
	}
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, `want a template string or a mapping (value or expr, createOnly, required)`)
		return
	}
	w.structure(n, fieldMappingType, path)
}

// scalar checks a single value against its Go type and expands references.
func (w walker) scalar(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		w.fail(n, path, "want a single %s value", kindName(t))
		return
	}
	v, err := w.res.expand(n.Value)
	if err != nil {
		w.fail(n, path, "%v", err)
		return
	}
	if t == secretType && v == n.Value && referenceLike.MatchString(v) {
		// A secret spelled like a reference but not one (${ENV X}) would
		// otherwise become the password itself.
		w.fail(n, path, "is written like a reference but is not a valid one (write ${env:NAME} or ${file:PATH})")
		return
	}
	switch {
	case t == secretType || t.Kind() == reflect.String:
		n.Value, n.Tag, n.Style = v, "!!str", 0
	case t == durationType:
		if _, err := time.ParseDuration(v); err != nil && v != "0" {
			w.fail(n, path, "%q is not a duration (write e.g. 90s, 5m or 1h30m)", v)
			return
		}
		if v == "0" {
			v = "0s"
		}
		n.Value, n.Tag = v, "!!str"
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			w.fail(n, path, "%q is not a boolean (true or false)", v)
			return
		}
		n.Value, n.Tag = strconv.FormatBool(b), "!!bool"
	case t.Kind() == reflect.Int:
		if _, err := strconv.Atoi(v); err != nil {
			w.fail(n, path, "%q is not a whole number", v)
			return
		}
		n.Value, n.Tag = v, "!!int"
	case t.Kind() == reflect.Float64:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			w.fail(n, path, "%q is not a number", v)
			return
		}
		n.Value, n.Tag = v, "!!float"
	default:
		w.fail(n, path, "unsupported value")
	}
}

// fail reports a problem and nulls the value so decoding skips it.
func (w walker) fail(n *yaml.Node, path, format string, args ...any) {
	w.ps.lines[path] = n.Line
	w.ps.add(path, format, args...)
	n.Kind, n.Tag, n.Value, n.Content, n.Alias = yaml.ScalarNode, "!!null", "", nil, nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() == reflect.Int, t.Kind() == reflect.Float64:
		return "number"
	default:
		return "string"
	}
}

// yamlFieldIndex maps YAML keys to struct fields.
func yamlFieldIndex(t reflect.Type) map[string]reflect.StructField {
	m := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		m[name] = f
	}
	return m
}

// yamlFields lists a struct's YAML keys in declaration order, for messages.
func yamlFields(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		name := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}
