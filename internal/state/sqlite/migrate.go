package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"io/fs"

	"github.com/pressly/goose/v3"

	"github.com/o365prov/o365prov/internal/state/internal/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

func upgrade(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return migrate.Up(ctx, goose.DialectSQLite3, db, fsys)
}
