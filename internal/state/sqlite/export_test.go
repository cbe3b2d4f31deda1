package sqlite

import "context"

// WriterPragma reads a pragma on the write connection, for tests of how
// Open configures it (synchronous is per connection, so only the store's own
// connection can tell).
func (s *Store) WriterPragma(ctx context.Context, name string) (string, error) {
	var v string
	err := s.w.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

// ReaderPragma reads a pragma on a read connection.
func (s *Store) ReaderPragma(ctx context.Context, name string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}
