package ldif

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// lineWidth is where lines are folded; RFC 2849 recommends at most 76
// characters so that files survive mail and editors.
const lineWidth = 76

// Writer writes records. Call Flush when done.
type Writer struct {
	w       *bufio.Writer
	written bool
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10)}
}

// Comment writes each line of text as a "# " comment line.
func (w *Writer) Comment(text string) error {
	for line := range strings.SplitSeq(text, "\n") {
		if _, err := w.w.WriteString(strings.TrimRight("# "+line, " ") + "\n"); err != nil {
			return fmt.Errorf("ldif: write comment: %w", err)
		}
	}
	return nil
}

// Write writes one record, preceded by a blank line unless it is the first.
func (w *Writer) Write(rec *Record) error {
	if w.written {
		if err := w.w.WriteByte('\n'); err != nil {
			return fmt.Errorf("ldif: write %s: %w", rec.DN, err)
		}
	}
	w.written = true
	if err := w.line("dn", rec.DN); err != nil {
		return fmt.Errorf("ldif: write %s: %w", rec.DN, err)
	}
	for _, a := range rec.Attrs {
		if err := w.line(a.Name, a.Value); err != nil {
			return fmt.Errorf("ldif: write %s: %s: %w", rec.DN, a.Name, err)
		}
	}
	return nil
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("ldif: flush: %w", err)
	}
	return nil
}

func (w *Writer) line(name, value string) error {
	var s string
	switch {
	case value == "":
		s = name + ":"
	case needsBase64(value):
		s = name + ":: " + base64.StdEncoding.EncodeToString([]byte(value))
	default:
		s = name + ": " + value
	}
	return w.folded(s)
}

// folded writes s, continuing lines longer than lineWidth on lines that
// start with one space.
func (w *Writer) folded(s string) error {
	width := lineWidth
	for len(s) > width {
		if _, err := w.w.WriteString(s[:width] + "\n "); err != nil {
			return err
		}
		s = s[width:]
		width = lineWidth - 1
	}
	_, err := w.w.WriteString(s + "\n")
	return err
}

// needsBase64 tells whether value cannot be written as a SAFE-STRING
// (RFC 2849): a leading space, colon or '<', a trailing space, a NUL, CR or
// LF, or any byte outside ASCII.
func needsBase64(value string) bool {
	switch value[0] {
	case ' ', ':', '<':
		return true
	}
	if value[len(value)-1] == ' ' {
		return true
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c == 0 || c == '\n' || c == '\r' || c > 127 {
			return true
		}
	}
	return false
}
