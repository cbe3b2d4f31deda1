package sqlstore

import (
	"context"
	"fmt"

	"github.com/o365prov/o365prov/internal/state"
)

// Setting implements state.Store. Errors name the key, never the value.
func (s *Store) Setting(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, s.q(`SELECT value FROM settings WHERE key = $1`), key).Scan(&v)
	if err != nil {
		return nil, fmt.Errorf("setting %s: %w", key, errNoRows(err))
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// PutSetting implements state.Store.
func (s *Store) PutSetting(ctx context.Context, key string, value []byte) error {
	if err := state.ValidateSettingKey(key); err != nil {
		return fmt.Errorf("put setting: %w", err)
	}
	if value == nil {
		value = []byte{}
	}
	_, err := s.exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("put setting %s: %w", key, err)
	}
	return nil
}
