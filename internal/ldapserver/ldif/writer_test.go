package ldif

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriterEncodesWhatIsNotSafe(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{"a plain value is written as is", "Alice", "cn: Alice\n"},
		{"an empty value has nothing after the colon", "", "cn:\n"},
		{"a leading space needs base64", " x", "cn:: IHg=\n"},
		{"a leading colon needs base64", ":x", "cn:: Ong=\n"},
		{"a leading less-than needs base64", "<x", "cn:: PHg=\n"},
		{"a trailing space needs base64", "x ", "cn:: eCA=\n"},
		{"a newline needs base64", "a\nb", "cn:: YQpi\n"},
		{"non-ASCII needs base64", "Zoë", "cn:: Wm/Dqw==\n"},
		{"a NUL byte needs base64", "a\x00", "cn:: YQA=\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewWriter(&b)
			if err := w.Write(&Record{DN: "dc=x", Attrs: []Attr{{Name: "cn", Value: tt.value}}}); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimPrefix(b.String(), "dn: dc=x\n"); got != tt.want {
				t.Errorf("wrote %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriterFoldsLongLinesAt76Columns(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	long := strings.Repeat("abcdefghij", 20)
	if err := w.Write(&Record{DN: "dc=x", Attrs: []Attr{{Name: "description", Value: long}}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if len(line) > 76 {
			t.Errorf("line %d has %d characters, want at most 76", i+1, len(line))
		}
	}
	recs, err := ReadAll(&b)
	if err != nil || len(recs) != 1 || recs[0].Attrs[0].Value != long {
		t.Fatalf("folded value did not read back: %v %+v", err, recs)
	}
}

// FuzzRoundTrip checks that whatever bytes a value holds, writing and
// reading it back gives the same bytes.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"", "plain", " lead", "trail ", ":", "<", "\x00\xff", "é", strings.Repeat("x", 200), "a\r\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		var b bytes.Buffer
		w := NewWriter(&b)
		if err := w.Write(&Record{DN: "cn=x,dc=y", Attrs: []Attr{{Name: "jpegPhoto", Value: value}}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadAll(&b)
		if err != nil {
			t.Fatalf("read back %q: %v", b.String(), err)
		}
		if len(recs) != 1 || len(recs[0].Attrs) != 1 || recs[0].Attrs[0].Value != value {
			t.Fatalf("value %q read back as %+v", value, recs)
		}
	})
}
