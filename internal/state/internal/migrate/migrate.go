// Package migrate brings a store's schema up to date with goose, the same way
// for every SQL store.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Up applies the versioned migrations in fsys (00001_init.sql, …) that db
// lacks. It refuses a database whose schema is newer than fsys knows: it was
// written by a newer o365prov, and this one would misread it.
// opts add to the provider's (a session locker, say).
func Up(ctx context.Context, dialect goose.Dialect, db *sql.DB, fsys fs.FS, opts ...goose.ProviderOption) error {
	// No global registry: Go migrations registered by anyone else in the
	// binary must not run against the state database.
	opts = append([]goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}, opts...)
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// p.Close would close db, which belongs to the caller.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	current, known, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("migrate: schema version: %w", err)
	}
	if current > known {
		return fmt.Errorf("schema version %d is newer than this o365prov knows (%d): run a newer o365prov", current, known)
	}
	return nil
}
