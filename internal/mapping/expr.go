package mapping

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// env is what an expression sees. Functions bound to the entry are built per
// evaluation; the helpers are pure.
type env struct {
	DN          string `expr:"dn"`
	ImmutableID string `expr:"immutableId"`
	Enabled     bool   `expr:"enabled"`

	Attr  func(name string) string   `expr:"attr"`
	Attrs func(name string) []string `expr:"attrs"`
	GUID  func(raw ...string) string `expr:"guid"`

	Base64        func(s string) string         `expr:"base64"`
	Hex           func(s string) string         `expr:"hex"`
	Default       func(values ...string) string `expr:"default"`
	CNFromDN      func(dn string) string        `expr:"cnFromDN"`
	UserFromEmail func(email string) string     `expr:"userFromEmail"`
	Nickname      func(s string) string         `expr:"nickname"`
}

type exprEvaluator struct {
	program *vm.Program
}

// compileExpr compiles an expression and lists the attributes it names with
// constant arguments to attr/attrs; all is true when one is named at run
// time.
func compileExpr(src string) (evaluator, []string, bool, error) {
	program, err := expr.Compile(src, expr.Env(env{}), expr.DisableBuiltin("now"))
	if err != nil {
		return nil, nil, false, fmt.Errorf("expression: %v", err)
	}
	v := &attrCollector{}
	node := program.Node()
	ast.Walk(&node, v)
	return exprEvaluator{program: program}, v.names, v.dynamic, nil
}

func (x exprEvaluator) eval(e Entry, opts Options) (any, error) {
	out, err := expr.Run(x.program, bind(e, opts))
	if err != nil {
		return nil, fmt.Errorf("expression: %v", err)
	}
	return out, nil
}

func bind(e Entry, opts Options) env {
	return env{
		DN:          e.DN,
		ImmutableID: immutableID(e, opts),
		Enabled:     e.Enabled,
		Attr: func(name string) string {
			if v := e.values(name); len(v) > 0 {
				return v[0]
			}
			return ""
		},
		Attrs: e.values,
		GUID: func(raw ...string) string {
			if len(raw) == 0 {
				return e.GUID
			}
			return adGUID([]byte(raw[0]))
		},
		Base64:        func(s string) string { return base64Std([]byte(s)) },
		Hex:           func(s string) string { return hex.EncodeToString([]byte(s)) },
		Default:       firstNonEmpty,
		CNFromDN:      cnFromDN,
		UserFromEmail: userFromEmail,
		Nickname:      nickname,
	}
}

// attrCollector finds attr("x") and attrs("x") calls.
type attrCollector struct {
	names   []string
	dynamic bool
}

func (c *attrCollector) Visit(n *ast.Node) {
	call, ok := (*n).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || (id.Value != "attr" && id.Value != "attrs") || len(call.Arguments) == 0 {
		return
	}
	if s, ok := call.Arguments[0].(*ast.StringNode); ok {
		c.names = append(c.names, s.Value)
		return
	}
	c.dynamic = true
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// adGUID renders 16 bytes as Active Directory shows a GUID: the first three
// groups are little-endian.
func adGUID(b []byte) string {
	if len(b) != 16 {
		return hex.EncodeToString(b)
	}
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%x",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10:])
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// cnFromDN returns the value of a DN's first RDN ("CN=Ada Lovelace,OU=x" →
// "Ada Lovelace"), honouring escaped commas.
func cnFromDN(dn string) string {
	var b strings.Builder
	escaped := false
	for _, r := range dn {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == ',' || r == '+':
			return rdnValue(b.String())
		default:
			b.WriteRune(r)
		}
	}
	return rdnValue(b.String())
}

func rdnValue(rdn string) string {
	if i := strings.IndexByte(rdn, '='); i >= 0 {
		return strings.TrimSpace(rdn[i+1:])
	}
	return strings.TrimSpace(rdn)
}

// userFromEmail returns the part before the @.
func userFromEmail(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[:i]
	}
	return email
}

// nickname makes a valid mailNickname: Graph refuses @()\[]";:.<>, and
// spaces (graph.md §4.1) and limits it to 64 characters. Letters outside
// ASCII are dropped rather than risk a refused create.
func nickname(s string) string {
	var b strings.Builder
	dash := func() {
		if s := b.String(); s != "" && s[len(s)-1] != '-' {
			b.WriteByte('-')
		}
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		case r == '-' || r == ' ' || r == '.':
			dash()
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 64 {
		out = out[:64]
	}
	return out
}
