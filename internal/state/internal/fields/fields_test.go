package fields

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		m    map[string]string
	}{
		{"a nil map comes back empty", nil},
		{"an empty map comes back empty", map[string]string{}},
		{"an empty key and an empty value survive", map[string]string{"": ""}},
		{"JSON values come back byte for byte", map[string]string{"displayName": `"Zoë \"Z\" Ünal"`, "otherMails": `["a@x","b@x"]`, "accountEnabled": "true"}},
		{"a long value survives", map[string]string{"k": string(make([]byte, 70000))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(Encode(tc.m))
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !maps.Equal(got, tc.m) {
				t.Errorf("got %q, want %q", got, tc.m)
			}
		})
	}
}

func TestEqualMapsEncodeAlike(t *testing.T) {
	a := map[string]string{}
	b := map[string]string{}
	for i := range 50 {
		a[fmt.Sprint(i)] = "v"
		b[fmt.Sprint(49-i)] = "v"
	}
	if string(Encode(a)) != string(Encode(b)) {
		t.Error("equal maps encoded differently")
	}
}

func TestDecodeRejectsCorruptBytes(t *testing.T) {
	good := Encode(map[string]string{"key": "value"})
	tests := []struct {
		name string
		b    []byte
	}{
		{"an unknown version", []byte{2, 0}},
		{"a missing count", []byte{1}},
		{"a count larger than the bytes", []byte{1, 9}},
		{"a truncated value", good[:len(good)-1]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"an overflowing length", []byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.b); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Decode = %v, want ErrCorrupt", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(map[string]string{"a": "b", "c": ""}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		if again, err := Decode(Encode(m)); err != nil || !maps.Equal(again, m) {
			t.Fatalf("re-encoding %q: %v", m, err)
		}
	})
}

func sample() map[string]string {
	m := map[string]string{}
	for i := range 20 {
		m[fmt.Sprintf("attribute%02d", i)] = fmt.Sprintf(`"value number %d of the user"`, i)
	}
	return m
}

// BenchmarkDecode compares this format with a JSON object of the same map,
// the reason this package exists.
func BenchmarkDecode(b *testing.B) {
	m := sample()
	b.Run("fields", func(b *testing.B) {
		enc := Encode(m)
		for b.Loop() {
			if _, err := Decode(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		enc, _ := json.Marshal(m)
		for b.Loop() {
			var got map[string]string
			if err := json.Unmarshal(enc, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
