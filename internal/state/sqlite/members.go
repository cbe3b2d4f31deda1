package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/o365prov/o365prov/internal/state"
)

// Members implements state.Store.
func (s *Store) Members(ctx context.Context, channel, groupGUID string, fn func(memberGUID string) error) error {
	what := fmt.Sprintf("members of %s/%s", channel, groupGUID)
	if err := state.ValidateMembers(channel, groupGUID, nil); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT member_guid FROM members
		WHERE channel = ? AND group_guid = ? ORDER BY member_guid`, channel, groupGUID)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// AddMembers implements state.Store.
func (s *Store) AddMembers(ctx context.Context, channel, groupGUID string, memberGUIDs []string) error {
	err := s.changeMembers(ctx, channel, groupGUID, memberGUIDs, `
		INSERT INTO members (channel, group_guid, member_guid) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("add %d members to %s/%s: %w", len(memberGUIDs), channel, groupGUID, err)
	}
	return nil
}

// RemoveMembers implements state.Store.
func (s *Store) RemoveMembers(ctx context.Context, channel, groupGUID string, memberGUIDs []string) error {
	err := s.changeMembers(ctx, channel, groupGUID, memberGUIDs, `
		DELETE FROM members WHERE channel = ? AND group_guid = ? AND member_guid = ?`)
	if err != nil {
		return fmt.Errorf("remove %d members from %s/%s: %w", len(memberGUIDs), channel, groupGUID, err)
	}
	return nil
}

// changeMembers runs the statement for each member in one transaction.
func (s *Store) changeMembers(ctx context.Context, channel, groupGUID string, memberGUIDs []string, query string) error {
	if err := state.ValidateMembers(channel, groupGUID, memberGUIDs); err != nil {
		return err
	}
	if len(memberGUIDs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, m := range memberGUIDs {
			if _, err := stmt.ExecContext(ctx, channel, groupGUID, m); err != nil {
				return fmt.Errorf("member %s: %w", m, err)
			}
		}
		return nil
	})
}

// GroupsOf implements state.Store.
func (s *Store) GroupsOf(ctx context.Context, channel, memberGUID string) ([]string, error) {
	what := fmt.Sprintf("groups of %s/%s", channel, memberGUID)
	if channel == "" || memberGUID == "" {
		return nil, fmt.Errorf("%s: %w empty channel or member GUID", what, state.ErrInvalid)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT group_guid FROM members
		WHERE channel = ? AND member_guid = ? ORDER BY group_guid`, channel, memberGUID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var groups []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return groups, nil
}
