// Package ldif reads and writes LDIF content files (RFC 2849): entries as
// "dn:" followed by attribute lines, with folding, comments and base64
// values. It streams in both directions so that files of 100,000 entries
// never need to be held in memory.
//
// Change records are not content: a record with "changetype: add" is read as
// an entry, any other changetype is reported as an error naming its line,
// because the embedded server loads state, it does not replay history.
package ldif

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Attr is one attribute value of a record, in file order. Name keeps its
// spelling and options ("userCertificate;binary"); Value holds the decoded
// bytes, exact even when they are not UTF-8.
type Attr struct {
	Name  string
	Value string
	// Line is the line on which the value starts, for error messages.
	Line int
}

// Record is one entry of an LDIF file.
type Record struct {
	DN    string
	Attrs []Attr
	// Line is the line of the "dn:" line.
	Line int
}

// Values returns the values of the attribute named name, compared without
// regard to case.
func (r *Record) Values(name string) []string {
	var out []string
	for _, a := range r.Attrs {
		if strings.EqualFold(a.Name, name) {
			out = append(out, a.Value)
		}
	}
	return out
}

// SyntaxError reports a malformed line.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("ldif line %d: %s", e.Line, e.Msg) }

// Reader reads records one at a time.
type Reader struct {
	r       *bufio.Reader
	line    int // number of the last physical line read
	pending *logicalLine
	started bool
	eof     bool
}

type logicalLine struct {
	text string
	line int
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next record, or io.EOF after the last one.
func (r *Reader) Next() (*Record, error) {
	lines, err := r.nextBlock()
	if err != nil {
		return nil, err
	}
	if !r.started {
		r.started = true
		if len(lines) > 0 && isVersionLine(lines[0].text) {
			if err := checkVersion(lines[0]); err != nil {
				return nil, err
			}
			lines = lines[1:]
			if len(lines) == 0 {
				return r.Next()
			}
		}
	}
	return parseRecord(lines)
}

func isVersionLine(s string) bool {
	name, _, ok := strings.Cut(s, ":")
	return ok && strings.EqualFold(strings.TrimSpace(name), "version")
}

func checkVersion(l logicalLine) error {
	_, v, _ := strings.Cut(l.text, ":")
	if strings.TrimSpace(v) != "1" {
		return &SyntaxError{Line: l.line, Msg: fmt.Sprintf("version %q: only version 1 is defined", strings.TrimSpace(v))}
	}
	return nil
}

// nextBlock returns the unfolded, comment-free lines of the next record.
func (r *Reader) nextBlock() ([]logicalLine, error) {
	var block []logicalLine
	for {
		l, err := r.logical()
		if errors.Is(err, io.EOF) {
			if len(block) == 0 {
				return nil, io.EOF
			}
			return block, nil
		}
		if err != nil {
			return nil, err
		}
		if l.text == "" {
			if len(block) > 0 {
				return block, nil
			}
			continue
		}
		if l.text[0] == '#' {
			continue
		}
		block = append(block, l)
	}
}

// logical returns the next line with its continuation lines joined. A blank
// line is returned as an empty text.
func (r *Reader) logical() (logicalLine, error) {
	var cur logicalLine
	if r.pending != nil {
		cur, r.pending = *r.pending, nil
	} else {
		text, err := r.physical()
		if err != nil {
			return logicalLine{}, err
		}
		if strings.HasPrefix(text, " ") {
			return logicalLine{}, &SyntaxError{Line: r.line, Msg: "continuation line (starting with a space) with no line to continue"}
		}
		cur = logicalLine{text: text, line: r.line}
	}
	if cur.text == "" {
		return cur, nil
	}
	var b strings.Builder
	b.WriteString(cur.text)
	for {
		text, err := r.physical()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return logicalLine{}, err
		}
		if strings.HasPrefix(text, " ") {
			b.WriteString(text[1:])
			continue
		}
		r.pending = &logicalLine{text: text, line: r.line}
		break
	}
	cur.text = b.String()
	return cur, nil
}

// physical returns the next line without its end of line.
func (r *Reader) physical() (string, error) {
	if r.eof {
		return "", io.EOF
	}
	s, err := r.r.ReadString('\n')
	if errors.Is(err, io.EOF) {
		r.eof = true
		if s == "" {
			return "", io.EOF
		}
	} else if err != nil {
		return "", fmt.Errorf("ldif: read after line %d: %w", r.line, err)
	}
	r.line++
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	return s, nil
}

func parseRecord(lines []logicalLine) (*Record, error) {
	name, dn, err := parseLine(lines[0])
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(name, "dn") {
		return nil, &SyntaxError{Line: lines[0].line, Msg: fmt.Sprintf("record starts with %q: a record must start with a dn: line", name)}
	}
	rec := &Record{DN: dn, Line: lines[0].line, Attrs: make([]Attr, 0, len(lines)-1)}
	for i, l := range lines[1:] {
		name, value, err := parseLine(l)
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(name) {
		case "changetype":
			if i != 0 || !strings.EqualFold(value, "add") {
				return nil, &SyntaxError{Line: l.line, Msg: fmt.Sprintf("changetype %q: a content file holds entries; only \"changetype: add\" directly after dn: is accepted", value)}
			}
			continue
		case "control":
			return nil, &SyntaxError{Line: l.line, Msg: "control: lines belong to change records, not to a content file"}
		case "dn":
			return nil, &SyntaxError{Line: l.line, Msg: "second dn: line in one record: separate records with a blank line"}
		}
		rec.Attrs = append(rec.Attrs, Attr{Name: name, Value: value, Line: l.line})
	}
	return rec, nil
}

// parseLine splits "name: value", "name:: base64" and rejects "name:< url".
func parseLine(l logicalLine) (string, string, error) {
	if l.text == "-" {
		return "", "", &SyntaxError{Line: l.line, Msg: `"-" separates modifications in change records, not allowed in a content file`}
	}
	name, rest, ok := strings.Cut(l.text, ":")
	if !ok {
		return "", "", &SyntaxError{Line: l.line, Msg: fmt.Sprintf("%q has no colon: want \"attribute: value\"", clip(l.text))}
	}
	if err := checkName(name); err != nil {
		return "", "", &SyntaxError{Line: l.line, Msg: err.Error()}
	}
	switch {
	case strings.HasPrefix(rest, ":"):
		enc := strings.Trim(rest[1:], " ")
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return "", "", &SyntaxError{Line: l.line, Msg: fmt.Sprintf("%s:: value is not valid base64: %v", name, err)}
		}
		return name, string(raw), nil
	case strings.HasPrefix(rest, "<"):
		return "", "", &SyntaxError{Line: l.line, Msg: fmt.Sprintf("%s:< URL values are not supported: inline the value as %s:: base64", name, name)}
	default:
		return name, strings.TrimLeft(rest, " "), nil
	}
}

// checkName accepts an attribute description: a name or OID, then options.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty attribute name before the colon")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		isAlnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !isAlnum && c != '-' && c != ';' && c != '.' {
			return fmt.Errorf("attribute name %q: only letters, digits, '-', '.' and ';' options are allowed", clip(name))
		}
	}
	return nil
}

func clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// ReadAll reads every record of r; convenient for small files and tests.
func ReadAll(r io.Reader) ([]*Record, error) {
	rd := NewReader(r)
	var out []*Record
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
}
