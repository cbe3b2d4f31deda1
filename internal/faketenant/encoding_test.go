package faketenant

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

func compress(t *testing.T, coding string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "raw-deflate":
		fw, err := flate.NewWriter(&buf, flate.BestCompression)
		if err != nil {
			t.Fatal(err)
		}
		w = fw
	default:
		t.Fatalf("unknown coding %s", coding)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sendEncoded posts or patches a body sent with the given Content-Encoding.
func (f *fixture) sendEncoded(method, path, coding string, body []byte) resp {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", coding)
	return f.send(req)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// docs/graph.md §14: SDKs send every body gzip-compressed and Graph accepts
// it; deflate is accepted too.
func TestCompressedBodiesAreAcceptedOnEveryRoute(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, coding, wire string
	}{
		{"a gzip body creates a user", "gzip", "gzip"},
		{"a zlib deflate body creates a user", "deflate", "deflate"},
		{"a raw deflate body creates a user", "raw-deflate", "deflate"},
		{"an x-gzip body creates a user", "gzip", "x-gzip"},
		{"an identity body creates a user", "", "identity"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			alias := "zip" + string(rune('a'+i))
			body := mustJSON(t, newUserBody(alias))
			if c.coding != "" {
				body = compress(t, c.coding, body)
			}
			r := f.sendEncoded(http.MethodPost, "/v1.0/users", c.wire, body)
			want(t, r, http.StatusCreated)
			if r.str("userPrincipalName") != alias+"@contoso.com" {
				t.Fatalf("created %s", r.raw)
			}
		})
	}
	t.Run("a gzip PATCH updates a user", func(t *testing.T) {
		id := f.createUser("zpatch", nil)
		r := f.sendEncoded(http.MethodPatch, "/v1.0/users/"+id, "gzip", compress(t, "gzip", mustJSON(t, map[string]any{"jobTitle": "Zipper"})))
		want(t, r, http.StatusNoContent)
		if u, _ := f.tenant.User(id); u.Properties["jobTitle"] != "Zipper" {
			t.Fatalf("jobTitle %v after gzip PATCH", u.Properties["jobTitle"])
		}
	})
	t.Run("a gzip $batch runs its requests", func(t *testing.T) {
		batch := map[string]any{"requests": []any{map[string]any{
			"id": "1", "method": "POST", "url": "/users",
			"headers": map[string]string{"Content-Type": "application/json"}, "body": newUserBody("zbatch"),
		}}}
		r := f.sendEncoded(http.MethodPost, "/v1.0/$batch", "gzip", compress(t, "gzip", mustJSON(t, batch)))
		want(t, r, http.StatusOK)
		inner := r.body["responses"].([]any)[0].(map[string]any)
		if inner["status"].(float64) != http.StatusCreated {
			t.Fatalf("inner response %v", inner)
		}
	})
}

// docs/graph.md §14: an encoding the server cannot read is 415, which makes
// the SDK's compression handler retry uncompressed.
func TestUnsupportedOrBrokenEncodingIsRefused(t *testing.T) {
	f := newFixture(t)
	body := mustJSON(t, newUserBody("zbad"))
	t.Run("brotli is answered 415", func(t *testing.T) {
		r := f.sendEncoded(http.MethodPost, "/v1.0/users", "br", body)
		want(t, r, http.StatusUnsupportedMediaType, "UnsupportedMediaType")
	})
	t.Run("a body that is not gzip is a 400, not a crash", func(t *testing.T) {
		r := f.sendEncoded(http.MethodPost, "/v1.0/users", "gzip", body)
		want(t, r, http.StatusBadRequest, "BadRequest")
	})
	t.Run("a truncated gzip body is a 400", func(t *testing.T) {
		z := compress(t, "gzip", body)
		r := f.sendEncoded(http.MethodPost, "/v1.0/users", "gzip", z[:len(z)/2])
		want(t, r, http.StatusBadRequest, "BadRequest")
	})
	if _, ok := f.tenant.User("zbad@contoso.com"); ok {
		t.Fatal("a refused body created the user")
	}
}

// docs/graph.md §11: the 4 MB body limit applies to the decoded body, and a
// zip bomb is refused after reading just past the limit.
func TestDecodedSizeLimitRefusesZipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy end to end: skipped with -short, run once by make e2e")
	}
	f := newFixture(t)
	bomb := compress(t, "gzip", bytes.Repeat([]byte{' '}, 64<<20))
	if len(bomb) > 256<<10 {
		t.Fatalf("bomb is %d bytes compressed; the test wants a small one", len(bomb))
	}
	for _, path := range []string{"/v1.0/users", "/v1.0/$batch"} {
		t.Run("a bomb posted to "+path+" is 413", func(t *testing.T) {
			r := f.sendEncoded(http.MethodPost, path, "gzip", bomb)
			want(t, r, http.StatusRequestEntityTooLarge, "Request_BadRequest")
		})
	}
	t.Run("a body just under the limit once decoded is read", func(t *testing.T) {
		b := newUserBody("zbig")
		b["displayName"] = "Big"
		data := mustJSON(t, b)
		padded := append(bytes.Repeat([]byte{' '}, maxBody-len(data)), data...)
		r := f.sendEncoded(http.MethodPost, "/v1.0/users", "gzip", compress(t, "gzip", padded))
		want(t, r, http.StatusCreated)
	})
}

func BenchmarkReadBodyZipBomb(b *testing.B) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(bytes.Repeat([]byte{' '}, 1<<30))
	_ = zw.Close()
	bomb := buf.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, "/v1.0/users", bytes.NewReader(bomb))
		req.Header.Set("Content-Encoding", "gzip")
		if _, err := readBody(req); err != errBodyTooLarge {
			b.Fatalf("err %v", err)
		}
	}
}
