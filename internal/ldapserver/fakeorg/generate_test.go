package fakeorg

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/o365prov/o365prov/internal/ldapserver/ldif"
)

// repoFile returns the path of a file relative to the repository root.
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	_, here, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Join(filepath.Dir(here), "..", "..", "..", rel)
}

func generate(t *testing.T, opts Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Generate(context.Background(), &b, opts); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return b.Bytes()
}

func TestTheShippedContosoLDIFIsTheGeneratorsOutput(t *testing.T) {
	shipped, err := os.ReadFile(repoFile(t, "examples/contoso.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(generate(t, Contoso()), shipped) {
		t.Fatal("examples/contoso.ldif differs from the generator's output: " +
			"regenerate it with `go run ./cmd/o365prov gen-ldif --out examples/contoso.ldif`")
	}
}

func TestTheSameSeedGivesTheSameFile(t *testing.T) {
	opts := Options{Users: 300, Groups: 25, Seed: 7, Domain: "fabrikam.com"}
	a, b := generate(t, opts), generate(t, opts)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same options differ")
	}
	opts.Seed = 8
	if bytes.Equal(a, generate(t, opts)) {
		t.Fatal("another seed gave the same file")
	}
}

func TestBadOptionsAreRefusedWithWhatIsAllowed(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no users", Options{Users: 0, Domain: "contoso.com"}, "want 1 to"},
		{"too many users", Options{Users: MaxUsers + 1, Domain: "contoso.com"}, "want 1 to"},
		{"negative groups", Options{Users: 1, Groups: -1, Domain: "contoso.com"}, "want 0 or more"},
		{"a one-label domain", Options{Users: 1, Domain: "contoso"}, "DNS name"},
		{"a domain with upper case", Options{Users: 1, Domain: "Contoso.com"}, "lower-case"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Generate(context.Background(), &bytes.Buffer{}, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestGenerationStopsWhenTheContextIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Generate(ctx, &bytes.Buffer{}, Options{Users: 5000, Domain: "contoso.com"})
	if err == nil {
		t.Fatal("Generate ignored a cancelled context")
	}
}

func TestAStreamOfManyUsersHasEveryEntry(t *testing.T) {
	const users, groups = 10_500, 30 // past the 10,000 distinct names, into numbered uids
	pr, pw := io.Pipe()
	go func() {
		_ = pw.CloseWithError(Generate(context.Background(), pw, Options{Users: users, Groups: groups, Seed: 3, Domain: "contoso.com"}))
	}()
	r := ldif.NewReader(pr)
	people, nGroups := 0, 0
	uids := map[string]bool{}
	for {
		rec, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(rec.DN, ",ou=people,dc=contoso,dc=com"):
			people++
			uid := rec.Values("uid")[0]
			if uids[uid] {
				t.Fatalf("uid %s twice", uid)
			}
			uids[uid] = true
		case strings.HasSuffix(rec.DN, ",ou=groups,dc=contoso,dc=com"):
			nGroups++
		}
	}
	if people != users || nGroups != groups {
		t.Errorf("read %d people and %d groups, want %d and %d", people, nGroups, users, groups)
	}
}
