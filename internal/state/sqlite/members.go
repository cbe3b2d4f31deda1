package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
	err := s.changeMembers(ctx, channel, groupGUID, memberGUIDs, func(n int) string {
		return `INSERT INTO members (channel, group_guid, member_guid)
			SELECT ?1, ?2, column1 FROM (VALUES ` + placeholders("(?)", n, 3) + `)
			WHERE true ON CONFLICT DO NOTHING`
	})
	if err != nil {
		return fmt.Errorf("add %d members to %s/%s: %w", len(memberGUIDs), channel, groupGUID, err)
	}
	return nil
}

// RemoveMembers implements state.Store.
func (s *Store) RemoveMembers(ctx context.Context, channel, groupGUID string, memberGUIDs []string) error {
	err := s.changeMembers(ctx, channel, groupGUID, memberGUIDs, func(n int) string {
		return `DELETE FROM members WHERE channel = ?1 AND group_guid = ?2
			AND member_guid IN (` + placeholders("?", n, 3) + `)`
	})
	if err != nil {
		return fmt.Errorf("remove %d members from %s/%s: %w", len(memberGUIDs), channel, groupGUID, err)
	}
	return nil
}

// memberChunk is how many members one statement changes: a statement per
// member costs several times more, and SQLite takes up to 32766 parameters.
const memberChunk = 500

// changeMembers runs, in one transaction, the statement query(n) for each
// chunk of n members; its parameters are ?1 the channel, ?2 the group and
// ?3… the members.
func (s *Store) changeMembers(ctx context.Context, channel, groupGUID string, memberGUIDs []string, query func(n int) string) error {
	if err := state.ValidateMembers(channel, groupGUID, memberGUIDs); err != nil {
		return err
	}
	if len(memberGUIDs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var (
			stmt *sql.Stmt
			size int
		)
		defer func() {
			if stmt != nil {
				stmt.Close()
			}
		}()
		for chunk := range slices.Chunk(memberGUIDs, memberChunk) {
			if len(chunk) != size {
				if stmt != nil {
					stmt.Close()
				}
				var err error
				if stmt, err = tx.PrepareContext(ctx, query(len(chunk))); err != nil {
					return err
				}
				size = len(chunk)
			}
			args := make([]any, 0, 2+len(chunk))
			args = append(args, channel, groupGUID)
			for _, m := range chunk {
				args = append(args, m)
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// placeholders is n copies of one, joined by commas, with the ? of each
// numbered from first.
func placeholders(one string, n, first int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strings.Replace(one, "?", "?"+strconv.Itoa(first+i), 1))
	}
	return b.String()
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
