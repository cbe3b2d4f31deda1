package faketenant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

func TestAppendJSON(t *testing.T) {
	values := []any{
		"plain", `quote " and \ backslash`, "tab\tnew\nline\r\x01\x1f", "<b>&</b>", "naïve 雪", "\u2028\u2029", "bad \xff utf8",
		true, nil, 42, 2.5, []string{"a", "b"}, map[string]any{"z": 1, "a": []string{}},
		[]map[string]any{{"skuId": "x", "disabledPlans": []string{}}}, struct{ A int }{1},
	}
	for _, v := range values {
		t.Run(fmt.Sprintf("%T %v encodes as encoding/json without HTML escaping", v, v), func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			got, err := appendJSON(nil, v)
			if err != nil || string(got) != string(bytes.TrimRight(want.Bytes(), "\n")) {
				t.Fatalf("got %s, want %s (%v)", got, want.Bytes(), err)
			}
		})
	}
	t.Run("a jsonObject keeps its key order", func(t *testing.T) {
		got, _ := json.Marshal(jsonObject{{"b", 1}, {"a", jsonObject{{"y", "x"}, {"x", nil}}}})
		if string(got) != `{"b":1,"a":{"y":"x","x":null}}` {
			t.Fatalf("%s", got)
		}
	})
}

func TestOrderedSet(t *testing.T) {
	t.Run("scan resumes after a sequence number across removals and compaction", func(t *testing.T) {
		s := newOrderedSet()
		for i := 0; i < 5000; i++ {
			s.add(fmt.Sprint(i))
		}
		for i := 0; i < 4000; i++ {
			s.remove(fmt.Sprint(i)) // forces compaction
		}
		if s.len() != 1000 || len(s.entries) > 2000 {
			t.Fatalf("len %d, entries %d", s.len(), len(s.entries))
		}
		var got []string
		s.scan(s.seqOf("4500"), func(k string, _ uint64) bool { got = append(got, k); return len(got) < 3 })
		if fmt.Sprint(got) != "[4501 4502 4503]" {
			t.Fatalf("%v", got)
		}
		if s.add("4501") || !s.add("new") || s.keys()[1000] != "new" {
			t.Fatal("add semantics")
		}
	})
}
