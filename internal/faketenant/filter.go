package faketenant

import (
	"fmt"
	"strings"
	"unicode"
)

// A small OData $filter parser covering what directory queries use:
// eq/ne/ge/le/gt/lt, in, startsWith/endsWith, and/or/not, parentheses, and
// any() lambdas over collections (graph.md §1.3).

type fexpr interface{}

type fcmp struct {
	prop string // property, or lambda variable path "p" / "u/skuId"
	op   string // eq ne ge le gt lt
	val  flit
}

type fin struct {
	prop string
	vals []flit
}

type ffunc struct {
	fn   string // startswith, endswith
	prop string
	val  flit
}

type fbool struct {
	op   string // and, or
	l, r fexpr
}

type fnot struct{ e fexpr }

type fany struct {
	coll  string // collection property
	v     string // lambda variable
	inner fexpr  // over v or v/sub
}

type flit struct {
	kind string // string, bool, null, number, guid
	s    string
	b    bool
}

type ftok struct {
	kind string // ident, string, punct, eof
	s    string
	pos  int
}

func lexFilter(src string) ([]ftok, error) {
	var out []ftok
	i := 0
	for i < len(src) {
		c := rune(src[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, fmt.Errorf("unterminated string literal at position %d", i)
				}
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			out = append(out, ftok{"string", b.String(), i})
			i = j + 1
		case strings.ContainsRune("(),:/", c):
			out = append(out, ftok{"punct", string(c), i})
			i++
		case unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || c == '-' || c == '.' || c == '$' || c == '@' || c == '+':
			j := i
			for j < len(src) {
				r := rune(src[j])
				if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.' || r == '$' || r == '@' || r == '+') {
					break
				}
				j++
			}
			out = append(out, ftok{"ident", src[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("syntax error at position %d in '%s'", i, src)
		}
	}
	return append(out, ftok{"eof", "", len(src)}), nil
}

type fparser struct {
	toks []ftok
	i    int
	src  string
}

func parseFilter(src string) (fexpr, error) {
	toks, err := lexFilter(src)
	if err != nil {
		return nil, err
	}
	p := &fparser{toks: toks, src: src}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != "eof" {
		return nil, p.errorf()
	}
	return e, nil
}

func (p *fparser) peek() ftok { return p.toks[p.i] }

// next consumes a token; at the end it keeps returning eof.
func (p *fparser) next() ftok {
	t := p.toks[p.i]
	if t.kind != "eof" {
		p.i++
	}
	return t
}

func (p *fparser) errorf() error {
	return fmt.Errorf("syntax error at position %d in '%s'", p.peek().pos, p.src)
}

func (p *fparser) keyword(k string) bool {
	t := p.peek()
	if t.kind == "ident" && strings.EqualFold(t.s, k) {
		p.i++
		return true
	}
	return false
}

func (p *fparser) punct(s string) bool {
	if t := p.peek(); t.kind == "punct" && t.s == s {
		p.i++
		return true
	}
	return false
}

func (p *fparser) expect(s string) error {
	if !p.punct(s) {
		return p.errorf()
	}
	return nil
}

func (p *fparser) or() (fexpr, error) {
	l, err := p.and()
	for err == nil && p.keyword("or") {
		var r fexpr
		if r, err = p.and(); err == nil {
			l = fbool{"or", l, r}
		}
	}
	return l, err
}

func (p *fparser) and() (fexpr, error) {
	l, err := p.unary()
	for err == nil && p.keyword("and") {
		var r fexpr
		if r, err = p.unary(); err == nil {
			l = fbool{"and", l, r}
		}
	}
	return l, err
}

func (p *fparser) unary() (fexpr, error) {
	if p.keyword("not") {
		e, err := p.unary()
		return fnot{e}, err
	}
	if p.punct("(") {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	}
	return p.primary()
}

func (p *fparser) primary() (fexpr, error) {
	t := p.next()
	if t.kind != "ident" {
		return nil, p.errorf()
	}
	if fn := strings.ToLower(t.s); (fn == "startswith" || fn == "endswith") && p.punct("(") {
		prop, err := p.path()
		if err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		return ffunc{fn, prop, lit}, p.expect(")")
	}
	prop := t.s
	for p.punct("/") {
		n := p.next()
		if n.kind != "ident" {
			return nil, p.errorf()
		}
		if (strings.EqualFold(n.s, "any") || strings.EqualFold(n.s, "all")) && p.punct("(") {
			return p.lambda(prop, strings.ToLower(n.s))
		}
		prop += "/" + n.s
	}
	return p.comparison(prop)
}

func (p *fparser) path() (string, error) {
	t := p.next()
	if t.kind != "ident" {
		return "", p.errorf()
	}
	s := t.s
	for p.punct("/") {
		n := p.next()
		if n.kind != "ident" {
			return "", p.errorf()
		}
		s += "/" + n.s
	}
	return s, nil
}

func (p *fparser) lambda(coll, kind string) (fexpr, error) {
	if kind != "any" {
		return nil, fmt.Errorf("the 'all' lambda is not supported")
	}
	v := p.next()
	if v.kind != "ident" || !p.punct(":") {
		return nil, p.errorf()
	}
	inner, err := p.or()
	if err != nil {
		return nil, err
	}
	return fany{coll: coll, v: v.s, inner: inner}, p.expect(")")
}

func (p *fparser) comparison(prop string) (fexpr, error) {
	op := p.next()
	if op.kind != "ident" {
		return nil, p.errorf()
	}
	switch o := strings.ToLower(op.s); o {
	case "eq", "ne", "ge", "le", "gt", "lt":
		lit, err := p.literal()
		return fcmp{prop, o, lit}, err
	case "in":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var vals []flit
		for {
			lit, err := p.literal()
			if err != nil {
				return nil, err
			}
			vals = append(vals, lit)
			if p.punct(")") {
				return fin{prop, vals}, nil
			}
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
	}
	return nil, p.errorf()
}

func (p *fparser) literal() (flit, error) {
	t := p.next()
	switch {
	case t.kind == "string":
		return flit{kind: "string", s: t.s}, nil
	case t.kind == "ident" && strings.EqualFold(t.s, "true"):
		return flit{kind: "bool", b: true}, nil
	case t.kind == "ident" && strings.EqualFold(t.s, "false"):
		return flit{kind: "bool"}, nil
	case t.kind == "ident" && strings.EqualFold(t.s, "null"):
		return flit{kind: "null"}, nil
	case t.kind == "ident" && isGUID(t.s):
		return flit{kind: "guid", s: t.s}, nil
	case t.kind == "ident" && len(t.s) > 0 && (unicode.IsDigit(rune(t.s[0])) || t.s[0] == '-'):
		return flit{kind: "number", s: t.s}, nil
	}
	return flit{}, p.errorf()
}

// evalFilter evaluates e against an object through get, which returns a
// property's stored value (string, bool, []string, []map[string]any, nil).
func evalFilter(e fexpr, get func(string) any) bool {
	switch n := e.(type) {
	case fbool:
		if n.op == "and" {
			return evalFilter(n.l, get) && evalFilter(n.r, get)
		}
		return evalFilter(n.l, get) || evalFilter(n.r, get)
	case fnot:
		return !evalFilter(n.e, get)
	case fcmp:
		return compare(get(n.prop), n.op, n.val)
	case fin:
		v := get(n.prop)
		for _, lit := range n.vals {
			if compare(v, "eq", lit) {
				return true
			}
		}
		return false
	case ffunc:
		s, ok := get(n.prop).(string)
		if !ok {
			return false
		}
		s, want := strings.ToLower(s), strings.ToLower(n.val.s)
		if n.fn == "startswith" {
			return strings.HasPrefix(s, want)
		}
		return strings.HasSuffix(s, want)
	case fany:
		return evalAny(n, get)
	}
	return false
}

func evalAny(n fany, get func(string) any) bool {
	var items []any
	switch c := get(n.coll).(type) {
	case []string:
		for _, s := range c {
			items = append(items, s)
		}
	case []map[string]any:
		for _, m := range c {
			items = append(items, m)
		}
	}
	for _, item := range items {
		sub := func(path string) any {
			head, rest, nested := strings.Cut(path, "/")
			if !strings.EqualFold(head, n.v) {
				return get(path)
			}
			if !nested {
				return item
			}
			if m, ok := item.(map[string]any); ok {
				for k, v := range m {
					if strings.EqualFold(k, rest) {
						return v
					}
				}
			}
			return nil
		}
		if evalFilter(n.inner, sub) {
			return true
		}
	}
	return false
}

// compare applies op; strings compare case-insensitively, as the directory
// does.
func compare(v any, op string, lit flit) bool {
	if lit.kind == "null" {
		isNull := v == nil || v == ""
		if op == "ne" {
			return !isNull
		}
		return op == "eq" && isNull
	}
	var c int
	switch x := v.(type) {
	case string:
		if lit.kind == "bool" {
			return false
		}
		c = strings.Compare(strings.ToLower(x), strings.ToLower(lit.s))
	case bool:
		if lit.kind != "bool" {
			return false
		}
		if x == lit.b {
			c = 0
		} else {
			c = 1
		}
	case nil:
		return op == "ne"
	default:
		return false
	}
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "ge":
		return c >= 0
	case "le":
		return c <= 0
	case "gt":
		return c > 0
	case "lt":
		return c < 0
	}
	return false
}
