package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

func full() state.Object {
	return state.Object{
		DN: "CN=Zoë Ünal,OU=Staff,DC=example,DC=com", GraphID: "1f2e3d4c-0000-4000-8000-000000000001",
		Applied:   map[string]string{"displayName": `"Zoë \"Z\" Ünal"`, "otherMails": `["a@x","b@x"]`, "": ""},
		Lifecycle: state.LifecycleDisabled, Status: state.StatusFailed, Attempts: 300,
		NextRetry: time.Date(2025, 3, 14, 9, 30, 0, 123456000, time.UTC),
		LastError: "503 Service Unavailable",
		DeletedAt: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), // before the epoch
		UpdatedAt: time.UnixMicro(1<<62 - 1).UTC(),
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		o    state.Object
	}{
		{"every field set comes back", full()},
		{"a zero object comes back with an empty Applied", state.Object{}},
		{"a long value comes back", state.Object{Applied: map[string]string{"k": string(make([]byte, 70000))}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got state.Object
			if err := DecodeObject(EncodeObject(tc.o), &got); err != nil {
				t.Fatal(err)
			}
			want := tc.o
			if want.Applied == nil {
				want.Applied = map[string]string{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestEqualObjectsEncodeAlike(t *testing.T) {
	a, b := state.Object{Applied: map[string]string{}}, state.Object{Applied: map[string]string{}}
	for i := range 50 {
		a.Applied[fmt.Sprint(i)] = "v"
		b.Applied[fmt.Sprint(49-i)] = "v"
	}
	if string(EncodeObject(a)) != string(EncodeObject(b)) {
		t.Error("equal objects encoded differently")
	}
}

func TestDecodeRejectsCorruptRecords(t *testing.T) {
	good := EncodeObject(full())
	tests := []struct {
		name string
		b    []byte
	}{
		{"nothing", nil},
		{"an unknown version", append([]byte{2}, good[1:]...)},
		{"a truncated record", good[:len(good)-1]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"a bad time flag", []byte{1, 0, 0, 0, 0, 0, 7}},
		{"a field count larger than the record", []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}},
		{"an overflowing number", []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o state.Object
			if err := DecodeObject(tc.b, &o); !errors.Is(err, ErrCorrupt) {
				t.Errorf("DecodeObject = %v, want ErrCorrupt", err)
			}
		})
	}
}

func FuzzDecodeObject(f *testing.F) {
	f.Add(EncodeObject(full()))
	f.Fuzz(func(t *testing.T, b []byte) {
		var o state.Object
		if err := DecodeObject(b, &o); err != nil {
			return
		}
		var again state.Object
		if err := DecodeObject(EncodeObject(o), &again); err != nil || !reflect.DeepEqual(again, o) {
			t.Fatalf("re-encoding %+v: %v", o, err)
		}
	})
}

// BenchmarkDecode compares a record with what it replaced: the applied
// fields as a JSON object (the scalar fields then cost a column each).
func BenchmarkDecode(b *testing.B) {
	o := full()
	for i := range 20 {
		o.Applied[fmt.Sprintf("attribute%02d", i)] = fmt.Sprintf(`"value number %d of the user"`, i)
	}
	b.Run("record", func(b *testing.B) {
		rec := EncodeObject(o)
		for b.Loop() {
			var got state.Object
			if err := DecodeObject(rec, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-applied-only", func(b *testing.B) {
		enc, _ := json.Marshal(o.Applied)
		for b.Loop() {
			var got map[string]string
			if err := json.Unmarshal(enc, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
