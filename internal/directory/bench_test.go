package directory

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/directory/slapdtest"
)

// heapPeak samples the live heap (runtime/metrics, no stop-the-world)
// while a read runs and reports the highest value seen.
type heapPeak struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

func watchHeap() *heapPeak {
	runtime.GC()
	h := &heapPeak{stop: make(chan struct{})}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(s)
		if v := s[0].Value.Uint64(); v > h.peak {
			h.peak = v
		}
	}
	read()
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return h
}

func (h *heapPeak) Stop() uint64 {
	close(h.stop)
	h.done.Wait()
	return h.peak
}

// usersFile writes n users as LDIF for slapadd.
func usersFile(tb testing.TB, n int) string {
	path := filepath.Join(tb.TempDir(), "users.ldif")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < n; i++ {
		slapdtest.WriteUser(w, "dc=example,dc=com", i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

var benchAttrs = []string{"uid", "cn", "sn", "givenName", "mail", "title", "telephoneNumber"}

// BenchmarkStream100k streams 100,000 users from slapd with the mapping's
// usual attributes, and reports entries per second and the peak heap
// during the read.
//
//	go test -run '^$' -bench Stream100k -benchtime 3x ./internal/directory/
func BenchmarkStream100k(b *testing.B) {
	const n = 100_000
	start := time.Now()
	srv := slapdtest.Start(b, slapdtest.Options{LDIFFiles: []string{usersFile(b, n)}})
	b.Logf("slapd with %d users ready in %v", n, time.Since(start).Round(time.Millisecond))
	d := open(b, srv.Source())
	var peak uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := watchHeap()
		count := 0
		st, err := d.Users(context.Background(), benchAttrs, func(e Entry) error {
			count++
			return nil
		})
		p := h.Stop()
		if err != nil {
			b.Fatal(err)
		}
		if count != n || st.Entries != n {
			b.Fatalf("read %d entries", count)
		}
		peak = max(peak, p)
	}
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkEnumerate100k is the delete-detection read: GUIDs only.
func BenchmarkEnumerate100k(b *testing.B) {
	const n = 100_000
	srv := slapdtest.Start(b, slapdtest.Options{LDIFFiles: []string{usersFile(b, n)}})
	d := open(b, srv.Source())
	var peak uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := watchHeap()
		count := 0
		err := d.Enumerate(context.Background(), KindUser, func(guid, dn string) error { count++; return nil })
		p := h.Stop()
		if err != nil || count != n {
			b.Fatalf("enumerated %d: %v", count, err)
		}
		peak = max(peak, p)
	}
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// The heap during a read does not grow with the number of entries: a read
// of 24,000 peaks no higher than a read of 1,000 (within noise).
func TestSlapdHeapFlatInEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	// Not parallel: the heap is the process's, and parallel tests would
	// add to it.
	srv := slapdtest.Start(t, slapdtest.Options{LDIFFiles: []string{usersFile(t, 24_000)}})
	src := srv.Source()
	peak := func(filter string) (uint64, int) {
		src.Users.Filter = filter
		d := open(t, src)
		h := watchHeap()
		count := 0
		if _, err := d.Users(ctxT(t), benchAttrs, func(Entry) error { count++; return nil }); err != nil {
			t.Fatal(err)
		}
		return h.Stop(), count
	}
	// uid=user00xxx selects 1,000 of them; the whole set is 24,000.
	small, ns := peak("(&(objectClass=inetOrgPerson)(uid=user00*))")
	large, nl := peak("(objectClass=inetOrgPerson)")
	t.Logf("peak heap: %d entries %.1f MB, %d entries %.1f MB", ns, float64(small)/(1<<20), nl, float64(large)/(1<<20))
	if ns != 1_000 || nl != 24_000 {
		t.Fatalf("read %d and %d entries", ns, nl)
	}
	// Allow slack (the GC's pacing), not the 24x a read that held its
	// entries would show.
	if large > 2*small+16<<20 {
		t.Errorf("peak heap grew from %.1f MB to %.1f MB for 24x the entries", float64(small)/(1<<20), float64(large)/(1<<20))
	}
}
