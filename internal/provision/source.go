package provision

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/o365prov/o365prov/internal/directory"
	"github.com/o365prov/o365prov/internal/engine"
)

// source is the engine's view of a channel's directory.
type source struct {
	dir    *lazyDirectory
	groups bool // the channel provisions groups
	// skip receives, during a read, the entries the directory skipped (no
	// usable GUID, an unparsable status): the engine must know them, or it
	// would take them for gone. The directory reports them through the
	// problem handler given at Open, from the goroutine that reads.
	mu   sync.Mutex
	skip func(dn, reason string) error
}

// problem is the directory's problem handler.
func (s *source) problem(p directory.Problem) {
	s.mu.Lock()
	fn := s.skip
	s.mu.Unlock()
	if fn != nil {
		_ = fn(p.DN, p.Reason) // the engine records it; a failure shows at the end of the read
	}
}

// reading routes skipped entries to fn for the length of a read.
func (s *source) reading(fn func(dn, reason string) error) func() {
	s.mu.Lock()
	s.skip = fn
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.skip = nil
		s.mu.Unlock()
	}
}

// skippedEntry is how the engine hears of an entry the directory skipped.
func skippedEntry(fn func(engine.Entry) error) func(dn, reason string) error {
	return func(dn, reason string) error { return fn(engine.Entry{DN: dn, Skip: reason}) }
}

func kindOf(k engine.Kind) directory.Kind {
	if k == engine.KindGroup {
		return directory.KindGroup
	}
	return directory.KindUser
}

func toEntry(e directory.Entry) engine.Entry {
	return engine.Entry{DN: e.DN, GUID: e.GUID, RawGUID: e.RawGUID, Enabled: e.Enabled, Attributes: e.Attributes, Members: e.Members}
}

func (s *source) Users(ctx context.Context, attrs []string, fn func(engine.Entry) error) error {
	d, err := s.dir.get(ctx)
	if err != nil {
		return err
	}
	defer s.reading(skippedEntry(fn))()
	_, err = d.Users(ctx, attrs, func(e directory.Entry) error { return fn(toEntry(e)) })
	return err
}

func (s *source) Groups(ctx context.Context, attrs []string, fn func(engine.Entry) error) error {
	d, err := s.dir.get(ctx)
	if err != nil {
		return err
	}
	defer s.reading(skippedEntry(fn))()
	_, err = d.Groups(ctx, attrs, func(e directory.Entry) error { return fn(toEntry(e)) })
	return err
}

func (s *source) Watermark(ctx context.Context) ([]byte, error) {
	d, err := s.dir.get(ctx)
	if err != nil {
		return nil, err
	}
	w, err := d.Watermark(ctx)
	return []byte(w), err
}

// Changes reads what changed for users, then groups. It returns a watermark
// taken before either read, so a change landing between the two is read
// again next time rather than missed.
func (s *source) Changes(ctx context.Context, since []byte, attrs []string, fn func(engine.Change) error) ([]byte, error) {
	d, err := s.dir.get(ctx)
	if err != nil {
		return nil, err
	}
	next, err := d.Watermark(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the directory's position: %w", err)
	}
	kinds := []directory.Kind{directory.KindUser}
	if s.groups {
		kinds = append(kinds, directory.KindGroup)
	}
	for _, k := range kinds {
		changed := engine.ChangedUser
		if k == directory.KindGroup {
			changed = engine.ChangedGroup
		}
		done := s.reading(func(dn, reason string) error {
			return fn(engine.Change{Kind: changed, Entry: engine.Entry{DN: dn, Skip: reason}})
		})
		_, err := d.Changes(ctx, k, directory.Watermark(since), attrs, func(c directory.Change) error {
			return fn(toChange(c))
		})
		done()
		if errors.Is(err, directory.ErrStaleWatermark) {
			return nil, fmt.Errorf("%w: %w", engine.ErrStaleWatermark, err)
		}
		if err != nil {
			return nil, err
		}
	}
	return []byte(next), nil
}

func toChange(c directory.Change) engine.Change {
	switch c.Kind {
	case directory.Left, directory.Deleted:
		return engine.Change{Kind: engine.DeletedObject, GUID: c.Entry.GUID}
	case directory.ScopeChanged:
		return engine.Change{Kind: engine.ScopeChanged}
	}
	if c.Object == directory.KindGroup {
		return engine.Change{Kind: engine.ChangedGroup, Entry: toEntry(c.Entry)}
	}
	return engine.Change{Kind: engine.ChangedUser, Entry: toEntry(c.Entry)}
}

// Enumerate reports an entry skipped for a bad GUID with an empty GUID, so
// the engine keeps what it knows at that DN.
func (s *source) Enumerate(ctx context.Context, kind engine.Kind, fn func(guid, dn string) error) error {
	d, err := s.dir.get(ctx)
	if err != nil {
		return err
	}
	defer s.reading(func(dn, _ string) error { return fn("", dn) })()
	return d.Enumerate(ctx, kindOf(kind), fn)
}

func (s *source) Lookup(ctx context.Context, kind engine.Kind, dn string, attrs []string) (engine.Entry, error) {
	d, err := s.dir.get(ctx)
	if err != nil {
		return engine.Entry{}, err
	}
	e, err := d.Lookup(ctx, kindOf(kind), dn, attrs)
	if errors.Is(err, directory.ErrNotFound) || errors.Is(err, directory.ErrNotInScope) {
		return engine.Entry{}, fmt.Errorf("%w: %w", engine.ErrNotInSource, err)
	}
	return toEntry(e), err
}

// Watch forwards the directory's pushed changes as wake-ups, saying when
// an entry left the scope (a syncrepl delete or present phase, an AD
// tombstone) or changes may have been missed: Changes reports no deletion
// on most directories, so the engine then enumerates the scope.
func (s *source) Watch(ctx context.Context, fn func(engine.Push)) error {
	d, err := s.dir.get(ctx)
	if err != nil {
		return err
	}
	err = d.Watch(ctx, func(ev directory.Event) { fn(engine.Push{Gone: ev.Gone || ev.Missed}) })
	if errors.Is(err, directory.ErrPushUnsupported) {
		return fmt.Errorf("%w: %w", engine.ErrPushUnsupported, err)
	}
	return err
}
