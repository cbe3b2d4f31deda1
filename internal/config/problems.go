package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a configuration file.
type Problem struct {
	File    string
	Line    int
	Path    string // field path, e.g. channels[0].source.url
	Message string // what is wrong, and in brackets what is allowed
}

func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if p.Path == "" {
		return fmt.Sprintf("%s: %s", loc, p.Message)
	}
	return fmt.Sprintf("%s: %s: %s", loc, p.Path, p.Message)
}

// Problems is every problem found in one configuration. It is the error Load
// returns, so a caller sees them all in one run, in file order.
type Problems struct {
	List []Problem
}

func (ps *Problems) Error() string {
	lines := make([]string, len(ps.List))
	for i, p := range ps.List {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func (ps *Problems) sort() {
	sort.SliceStable(ps.List, func(i, j int) bool { return ps.List[i].Line < ps.List[j].Line })
}

// problemSet collects problems while a file is read, placing each at the line
// of its field (or of the nearest enclosing field present in the file), and
// keeps one problem per field so a bad value is not reported twice.
type problemSet struct {
	file  string
	lines map[string]int
	seen  map[string]bool
	list  []Problem
}

func newProblemSet(file string) *problemSet {
	return &problemSet{file: file, lines: map[string]int{}, seen: map[string]bool{}}
}

func (s *problemSet) add(path, format string, args ...any) {
	if s.seen[path] {
		return
	}
	s.seen[path] = true
	s.list = append(s.list, Problem{File: s.file, Line: s.line(path), Path: path, Message: fmt.Sprintf(format, args...)})
}

// line finds the line of path, or of its nearest ancestor in the file.
func (s *problemSet) line(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := s.lines[p]; ok {
			return l
		}
	}
	return s.lines[""]
}

// parentPath drops the last element: a.b[2].c → a.b[2] → a.b → a.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func (s *problemSet) err() error {
	if len(s.list) == 0 {
		return nil
	}
	ps := &Problems{List: s.list}
	ps.sort()
	return ps
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
