package ldif

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReaderParsesRecords(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Record
	}{
		{
			name: "a plain record keeps values and attribute order",
			in:   "dn: uid=a,dc=x\nobjectClass: person\ncn: A\nsn: B\n",
			want: []Record{{DN: "uid=a,dc=x", Attrs: []Attr{{"objectClass", "person", 2}, {"cn", "A", 3}, {"sn", "B", 4}}}},
		},
		{
			name: "a version line, comments and several blank lines are skipped",
			in:   "# head\nversion: 1\n\n\n# about a\ndn: uid=a,dc=x\ncn: A\n\n\n\ndn: uid=b,dc=x\n# inside\ncn: B\n",
			want: []Record{
				{DN: "uid=a,dc=x", Attrs: []Attr{{"cn", "A", 7}}},
				{DN: "uid=b,dc=x", Attrs: []Attr{{"cn", "B", 13}}},
			},
		},
		{
			name: "folded lines are joined without their leading space",
			in:   "dn: uid=a,\n dc=x\ndescription: one \n two\n",
			want: []Record{{DN: "uid=a,dc=x", Attrs: []Attr{{"description", "one two", 3}}}},
		},
		{
			name: "base64 values decode to exact bytes, even binary ones",
			in:   "dn:: dWlkPWrDtnJnLGRjPXg=\njpegPhoto:: AP8QgA==\ncn:: IGxlYWRpbmcgc3BhY2U=\n",
			want: []Record{{DN: "uid=jörg,dc=x", Attrs: []Attr{{"jpegPhoto", "\x00\xff\x10\x80", 2}, {"cn", " leading space", 3}}}},
		},
		{
			name: "an empty value and a value with trailing spaces are kept as written",
			in:   "dn: cn=g,dc=x\nmember:\ndescription: trailing  \n",
			want: []Record{{DN: "cn=g,dc=x", Attrs: []Attr{{"member", "", 2}, {"description", "trailing  ", 3}}}},
		},
		{
			name: "CRLF line ends are accepted",
			in:   "dn: cn=g,dc=x\r\ncn: g\r\n\r\ndn: cn=h,dc=x\r\ncn: h\r\n",
			want: []Record{
				{DN: "cn=g,dc=x", Attrs: []Attr{{"cn", "g", 2}}},
				{DN: "cn=h,dc=x", Attrs: []Attr{{"cn", "h", 5}}},
			},
		},
		{
			name: "changetype add directly after dn is read as content",
			in:   "dn: cn=g,dc=x\nchangetype: add\ncn: g\n",
			want: []Record{{DN: "cn=g,dc=x", Attrs: []Attr{{"cn", "g", 3}}}},
		},
		{
			name: "attribute options are part of the name",
			in:   "dn: cn=g,dc=x\nuserCertificate;binary:: AQI=\n",
			want: []Record{{DN: "cn=g,dc=x", Attrs: []Attr{{"userCertificate;binary", "\x01\x02", 2}}}},
		},
		{
			name: "a file without a final newline still yields its last record",
			in:   "dn: cn=g,dc=x\ncn: g",
			want: []Record{{DN: "cn=g,dc=x", Attrs: []Attr{{"cn", "g", 2}}}},
		},
		{
			name: "an empty file has no records",
			in:   "# nothing here\n\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadAll(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d records, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				if got[i].DN != tt.want[i].DN {
					t.Errorf("record %d: DN %q, want %q", i, got[i].DN, tt.want[i].DN)
				}
				if len(got[i].Attrs) != len(tt.want[i].Attrs) {
					t.Fatalf("record %d: attrs %+v, want %+v", i, got[i].Attrs, tt.want[i].Attrs)
				}
				for j, a := range got[i].Attrs {
					if a != tt.want[i].Attrs[j] {
						t.Errorf("record %d attr %d: %+v, want %+v", i, j, a, tt.want[i].Attrs[j])
					}
				}
			}
		})
	}
}

func TestReaderReportsTheLineOfBadInput(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantText string
	}{
		{"a line without a colon", "dn: cn=a,dc=x\ncn a\n", 2, "no colon"},
		{"a record that does not start with dn", "\n\ncn: a\n", 3, "must start with a dn"},
		{"invalid base64", "dn: cn=a,dc=x\ncn:: !!!\n", 2, "not valid base64"},
		{"a URL value", "dn: cn=a,dc=x\njpegPhoto:< file:///etc/passwd\n", 2, "URL values are not supported"},
		{"a modify change record", "dn: cn=a,dc=x\nchangetype: modify\nreplace: cn\n", 2, "only \"changetype: add\""},
		{"a continuation with nothing to continue", "\n continued\n", 2, "no line to continue"},
		{"a second dn in one record", "dn: cn=a,dc=x\ndn: cn=b,dc=x\n", 2, "second dn"},
		{"a bad attribute name", "dn: cn=a,dc=x\nc n: x\n", 2, "only letters"},
		{"an unknown version", "version: 2\ndn: cn=a,dc=x\n", 1, "only version 1"},
		{"a change separator", "dn: cn=a,dc=x\n-\n", 2, "separates modifications"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is reported with its line", func(t *testing.T) {
			_, err := ReadAll(strings.NewReader(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SyntaxError", err)
			}
			if se.Line != tt.wantLine || !strings.Contains(se.Msg, tt.wantText) {
				t.Errorf("got line %d %q, want line %d containing %q", se.Line, se.Msg, tt.wantLine, tt.wantText)
			}
		})
	}
}

func TestReaderStreamsRecordByRecord(t *testing.T) {
	r := NewReader(strings.NewReader("dn: cn=a,dc=x\ncn: a\n\ndn: cn=b,dc=x\ncn: b\n"))
	for _, want := range []string{"cn=a,dc=x", "cn=b,dc=x"} {
		rec, err := r.Next()
		if err != nil || rec.DN != want {
			t.Fatalf("Next = %v, %v; want %s", rec, err, want)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last record Next = %v, want io.EOF", err)
	}
}
