package sqlite_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/o365prov/o365prov/internal/state"
)

// batch is how many objects the crash child puts per transaction.
const batch = 10

func crashObject(i int) state.Object {
	guid := fmt.Sprintf("u%06d", i)
	return state.Object{Channel: "staff", Kind: state.KindUser, GUID: guid, DN: "CN=" + guid, GraphID: "graph-" + guid,
		Applied: map[string]string{"displayName": strconv.Quote(guid)}, Lifecycle: state.LifecycleActive, Status: state.StatusOK}
}

// TestCrashChild is the process TestCommittedWritesSurviveKill kills: it
// writes batches until killed and prints the number of objects after each
// commit returns.
func TestCrashChild(t *testing.T) {
	path := os.Getenv("O365PROV_STATE_CRASH_DB")
	if path == "" {
		t.Skip("run by TestCommittedWritesSurviveKill")
	}
	s := open(t, path)
	n, err := s.CountObjects(t.Context(), "staff", state.KindUser)
	if err != nil {
		t.Fatal(err)
	}
	for ; ; n += batch {
		objs := make([]state.Object, batch)
		for i := range objs {
			objs[i] = crashObject(n + i)
		}
		if err := s.PutObjects(t.Context(), objs); err != nil {
			t.Fatal(err)
		}
		if err := s.AddMembers(t.Context(), "staff", "g1", []string{objs[0].GUID}); err != nil {
			t.Fatal(err)
		}
		fmt.Println(n + batch)
	}
}

// A call that returned nil survives kill -9, and a transaction cut short
// leaves nothing of itself: the engine's crash guarantee rests on both.
func TestCommittedWritesSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	for round, acks := range []int{3, 17, 1, 40, 9} {
		acked := runAndKill(t, path, acks)
		s := open(t, path)
		n, err := s.CountObjects(t.Context(), "staff", state.KindUser)
		if err != nil {
			t.Fatal(err)
		}
		// The write under way at the kill may have committed, unacknowledged.
		if n != acked && n != acked+batch {
			t.Errorf("round %d: %d objects after acknowledging %d; want %d or %d", round, n, acked, acked, acked+batch)
		}
		for i := range n {
			if o, err := s.Object(t.Context(), "staff", state.KindUser, crashObject(i).GUID); err != nil || o.GraphID != crashObject(i).GraphID {
				t.Fatalf("round %d: object %d: %+v, %v", round, i, o, err)
			}
		}
		if m := members(t, s, "g1"); len(m) != n/batch && len(m) != n/batch-1 {
			t.Errorf("round %d: %d members for %d batches", round, len(m), n/batch)
		}
		var check string
		if err := raw(t, path).QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Errorf("round %d: integrity_check = %q, %v", round, check, err)
		}
		s.Close()
	}
}

// runAndKill runs TestCrashChild on path, kills it with SIGKILL after it
// has acknowledged acks more commits, and returns the object count it last
// acknowledged.
func runAndKill(t *testing.T, path string, acks int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "O365PROV_STATE_CRASH_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last, seen := -1, 0
	lines := bufio.NewScanner(out)
	for seen < acks && lines.Scan() {
		if n, err := strconv.Atoi(lines.Text()); err == nil {
			last, seen = n, seen+1
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if seen < acks {
		t.Fatalf("the child stopped after %d commits: %v", seen, lines.Err())
	}
	return last
}

func members(t *testing.T, s state.Store, group string) []string {
	t.Helper()
	var all []string
	if err := s.Members(t.Context(), "staff", group, func(m string) error { all = append(all, m); return nil }); err != nil {
		t.Fatal(err)
	}
	return all
}

// Two stores on one file stand for two processes (the service and an
// `o365prov channel reset`): the busy timeout and immediate transactions
// make them wait for each other instead of failing.
func TestTwoStoresShareAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	stores := []state.Store{open(t, path), open(t, path)}
	defer stores[0].Close()
	defer stores[1].Close()
	const workers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for si, s := range stores {
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					o := crashObject((si*workers+w)*each + i)
					if err := s.PutObject(t.Context(), o); err != nil {
						errs <- err
						return
					}
					if err := s.AddMembers(t.Context(), "staff", "g1", []string{o.GUID}); err != nil {
						errs <- err
						return
					}
					if _, err := s.Object(t.Context(), "staff", state.KindUser, o.GUID); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, s := range stores {
		if n, _ := s.CountObjects(t.Context(), "staff", state.KindUser); n != 2*workers*each {
			t.Errorf("%d objects, want %d", n, 2*workers*each)
		}
	}
	if m := members(t, stores[1], "g1"); len(m) != 2*workers*each {
		t.Errorf("%d members, want %d", len(m), 2*workers*each)
	}
}
