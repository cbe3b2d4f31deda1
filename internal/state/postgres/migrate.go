package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/o365prov/o365prov/internal/state/internal/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock nodes take to migrate: o365prov's own,
// not goose's default, which any goose user of the database shares.
const migrationLock = 0x0365_5747_4154_45 // "o365 STATE"

// upgrade migrates under an advisory lock, so nodes starting together take
// turns; a waiting node looks again every second, for up to five minutes.
func upgrade(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLock), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	return migrate.Up(ctx, goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
}
