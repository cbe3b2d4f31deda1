package conformance

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

func concurrencyTests() []test {
	return []test{
		{"concurrent writers and readers neither fail nor lose a write", func(t *testing.T, s state.Store) {
			const workers, each = 12, 12
			ctx := t.Context()
			var wg sync.WaitGroup
			errs := make(chan error, workers*each)
			for w := range workers {
				wg.Go(func() {
					for i := range each {
						guid := fmt.Sprintf("w%02d-%03d", w, i)
						o := user(guid)
						o.UpdatedAt = at(time.Duration(i) * time.Millisecond)
						steps := []func() error{
							func() error { return s.PutObject(ctx, o) },
							func() error { return s.AddMembers(ctx, "staff", fmt.Sprint("g", w%4), []string{guid}) },
							func() error {
								return s.Audit(ctx, state.AuditEntry{Time: o.UpdatedAt, Channel: "staff", GUID: guid, Operation: "create", Result: "ok"})
							},
							func() error { _, err := s.Object(ctx, "staff", state.KindUser, guid); return err },
							func() error { _, err := s.CountObjects(ctx, "staff", state.KindUser); return err },
							func() error {
								if i%4 != 0 { // a walk reads everything written so far
									return nil
								}
								return s.Objects(ctx, "staff", state.KindUser, func(state.Object) error { return nil })
							},
							func() error { _, err := s.GroupsOf(ctx, "staff", guid); return err },
						}
						for _, step := range steps {
							if err := step(); err != nil {
								errs <- fmt.Errorf("worker %d, %s: %w", w, guid, err)
								return
							}
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if n, _ := s.CountObjects(ctx, "staff", state.KindUser); n != workers*each {
				t.Errorf("%d objects, want %d", n, workers*each)
			}
			total := 0
			for g := range 4 {
				total += len(members(t, s, "staff", fmt.Sprint("g", g)))
			}
			if total != workers*each {
				t.Errorf("%d memberships, want %d", total, workers*each)
			}
			if es, _ := s.QueryAudit(ctx, state.AuditQuery{Limit: 2 * workers * each}); len(es) != workers*each {
				t.Errorf("%d audit entries, want %d", len(es), workers*each)
			}
		}},
		{"walks running at once may each write from their callbacks", func(t *testing.T, s state.Store) {
			ctx := t.Context()
			var seed []state.Object
			for i := range 50 {
				seed = append(seed, user(fmt.Sprintf("u%03d", i)))
			}
			must(t, s.PutObjects(ctx, seed))
			var wg sync.WaitGroup
			errs := make([]error, 6)
			for w := range errs {
				wg.Go(func() {
					errs[w] = s.Objects(ctx, "staff", state.KindUser, func(o state.Object) error {
						o.Attempts = w
						if err := s.PutObject(ctx, o); err != nil {
							return err
						}
						return s.Members(ctx, "staff", o.GUID, func(string) error { return nil })
					})
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
		}},
	}
}
