package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/accountd/accountd"
)

const orgColumns = "o.id, o.name, o.description, o.icon_color, o.mfa_mode, o.created_at, o.updated_at"

func scanOrg(row scanner) (*accountd.Org, error) {
	var (
		o                accountd.Org
		created, updated int64
	)
	if err := row.Scan(&o.ID, &o.Name, &o.Description, &o.IconColor, &o.MFAMode, &created, &updated); err != nil {
		return nil, err
	}
	o.CreatedAt, o.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &o, nil
}

func (s *Store) CreateOrg(ctx context.Context, o *accountd.Org, admin accountd.Member) error {
	return s.inTx(ctx, func(tx *Store) error {
		_, err := tx.exec(ctx, "INSERT INTO orgs (id, name, description, icon_color, mfa_mode, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			o.ID, o.Name, o.Description, o.IconColor, o.MFAMode, millis(o.CreatedAt), millis(o.UpdatedAt))
		if err != nil {
			return internal("creating organization", err)
		}
		admin.OrgID = o.ID
		return tx.AddMember(ctx, admin)
	})
}

func (s *Store) Org(ctx context.Context, id string) (*accountd.Org, error) {
	o, err := scanOrg(s.queryRow(ctx, "SELECT "+orgColumns+" FROM orgs o WHERE o.id = ?", id))
	switch {
	case err == nil:
		return o, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, accountd.NotFound("organization")
	default:
		return nil, internal("reading organization", err)
	}
}

var (
	orgSort   = map[string]string{"name": "o.name", "id": "o.id", "creationDate": "o.created_at", "lastUpdated": "o.updated_at"}
	nameOnly  = map[string]string{"name": "name"}
	orgFilter = map[string]string{"name": "o.name"}
)

func (s *Store) Orgs(ctx context.Context, userID string, q accountd.ListQuery) ([]*accountd.Org, int, error) {
	var out []*accountd.Org
	total, err := s.listPage(ctx, listSpec{
		what: "listing organizations", columns: orgColumns,
		from: " FROM orgs o JOIN org_members m ON m.org_id = o.id WHERE m.user_id = ?", args: []any{userID},
		sort: orgSort, filter: orgFilter, idCol: "o.id",
	}, q, func(rows scanner) error {
		o, err := scanOrg(rows)
		out = append(out, o)
		return err
	})
	return out, total, err
}

func (s *Store) DeleteOrg(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, "DELETE FROM orgs WHERE id = ?", id)
		if err != nil {
			return internal("deleting organization", err)
		}
		if err := oneRow(res, "organization", "deleting organization"); err != nil {
			return err
		}
		tx.recordOwnerEvent(accountd.OwnerOrg, id)
		if err := tx.forgetUsage(ctx, accountd.OwnerOrg, id); err != nil {
			return err
		}
		return tx.forgetRecent(ctx, id)
	})
}

// forgetRecent drops the recent-item entries of an item, and of the items
// under it (the devices and flows of an application).
func (s *Store) forgetRecent(ctx context.Context, id string) error {
	if _, err := s.exec(ctx, "DELETE FROM recent_items WHERE item_id = ? OR parent_id = ?", id, id); err != nil {
		return internal("dropping recent items", err)
	}
	return nil
}

const memberColumns = "m.org_id, m.user_id, m.role, u.email, u.first_name, u.last_name, m.created_at"

func (s *Store) Members(ctx context.Context, orgID string) ([]accountd.Member, error) {
	var out []accountd.Member
	err := s.members(ctx, "SELECT "+memberColumns+` FROM org_members m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ? ORDER BY m.created_at, m.user_id`, []any{orgID}, func(m accountd.Member) { out = append(out, m) })
	return out, err
}

// MembersOf is one query however many organizations a page holds. The
// list of ids is padded to a power of two with its last id, so that a few
// statement texts serve every page size and each is prepared once.
func (s *Store) MembersOf(ctx context.Context, orgIDs []string) (map[string][]accountd.Member, error) {
	out := make(map[string][]accountd.Member, len(orgIDs))
	if len(orgIDs) == 0 {
		return out, nil
	}
	n := 1
	for n < len(orgIDs) {
		n *= 2
	}
	args := make([]any, n)
	for i := range args {
		args[i] = orgIDs[min(i, len(orgIDs)-1)]
	}
	in := strings.Repeat("?, ", n-1) + "?"
	err := s.members(ctx, "SELECT "+memberColumns+` FROM org_members m JOIN users u ON u.id = m.user_id
		WHERE m.org_id IN (`+in+`) ORDER BY m.org_id, m.created_at, m.user_id`, args, func(m accountd.Member) {
		out[m.OrgID] = append(out[m.OrgID], m)
	})
	return out, err
}

func (s *Store) members(ctx context.Context, query string, args []any, add func(accountd.Member)) error {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return internal("listing members", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			m       accountd.Member
			role    string
			created int64
		)
		if err := rows.Scan(&m.OrgID, &m.UserID, &role, &m.Email, &m.FirstName, &m.LastName, &created); err != nil {
			return internal("listing members", err)
		}
		m.Role, m.CreatedAt = accountd.Role(role), fromMillis(created)
		add(m)
	}
	if err := rows.Err(); err != nil {
		return internal("listing members", err)
	}
	return nil
}

func (s *Store) MemberRole(ctx context.Context, orgID, userID string) (accountd.Role, error) {
	var role string
	err := s.queryRow(ctx, "SELECT role FROM org_members WHERE org_id = ? AND user_id = ?", orgID, userID).Scan(&role)
	switch {
	case err == nil:
		return accountd.Role(role), nil
	case errors.Is(err, sql.ErrNoRows):
		return "", accountd.NotFound("member")
	default:
		return "", internal("reading membership", err)
	}
}

// AddMember and RemoveMember record an event for the member: what they
// see (orgCount, the organization's resources) changed.
func (s *Store) AddMember(ctx context.Context, m accountd.Member) error {
	return s.inTx(ctx, func(tx *Store) error {
		_, err := tx.exec(ctx, "INSERT INTO org_members (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)",
			m.OrgID, m.UserID, string(m.Role), millis(m.CreatedAt))
		switch {
		case err == nil:
			tx.recordOwnerEvent(accountd.OwnerUser, m.UserID)
			return nil
		case tx.d.IsUniqueViolation(err):
			return &accountd.Error{Code: accountd.CodeConflict, Field: "userId", Message: "userId: is already a member", Err: err}
		case tx.d.IsForeignKeyViolation(err):
			return accountd.NotFound("organization or user")
		default:
			return internal("adding member", err)
		}
	})
}

func (s *Store) SetMemberRole(ctx context.Context, orgID, userID string, role accountd.Role) error {
	res, err := s.exec(ctx, "UPDATE org_members SET role = ? WHERE org_id = ? AND user_id = ?", string(role), orgID, userID)
	if err != nil {
		return internal("updating member", err)
	}
	return oneRow(res, "member", "updating member")
}

func (s *Store) RemoveMember(ctx context.Context, orgID, userID string) error {
	return s.inTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, "DELETE FROM org_members WHERE org_id = ? AND user_id = ?", orgID, userID)
		if err != nil {
			return internal("removing member", err)
		}
		if err := oneRow(res, "member", "removing member"); err != nil {
			return err
		}
		tx.recordOwnerEvent(accountd.OwnerUser, userID)
		return nil
	})
}

func (s *Store) SoleAdminOrgs(ctx context.Context, userID string) ([]*accountd.Org, error) {
	rows, err := s.query(ctx, "SELECT "+orgColumns+` FROM orgs o JOIN org_members m ON m.org_id = o.id
		WHERE m.user_id = ? AND m.role = 'admin'
		AND NOT EXISTS (SELECT 1 FROM org_members x WHERE x.org_id = o.id AND x.role = 'admin' AND x.user_id <> m.user_id)
		ORDER BY o.name, o.id`, userID)
	if err != nil {
		return nil, internal("listing organizations", err)
	}
	defer rows.Close()
	var out []*accountd.Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, internal("listing organizations", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing organizations", err)
	}
	return out, nil
}

const inviteColumns = `i.id, i.org_id, o.name, o.mfa_mode, i.email, i.role, i.invited_by_name, i.invited_by_email,
	i.created_at, i.expires_at, i.answer`

func scanInvite(row scanner) (*accountd.Invite, error) {
	var (
		i                accountd.Invite
		role             string
		created, expires int64
	)
	err := row.Scan(&i.ID, &i.OrgID, &i.OrgName, &i.OrgMFAMode, &i.Email, &role, &i.InvitedByName, &i.InvitedByEmail,
		&created, &expires, &i.Answer)
	if err != nil {
		return nil, err
	}
	i.Role, i.CreatedAt, i.ExpiresAt = accountd.Role(role), fromMillis(created), fromMillis(expires)
	return &i, nil
}

func (s *Store) CreateInvite(ctx context.Context, i *accountd.Invite) error {
	_, err := s.exec(ctx, `INSERT INTO org_invites (id, org_id, email, email_key, role, invited_by_name, invited_by_email,
		created_at, expires_at, answer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		i.ID, i.OrgID, i.Email, accountd.EmailKey(i.Email), string(i.Role), i.InvitedByName, i.InvitedByEmail,
		millis(i.CreatedAt), millis(i.ExpiresAt), i.Answer)
	switch {
	case err == nil:
		return nil
	case s.d.IsForeignKeyViolation(err):
		return accountd.NotFound("organization")
	default:
		return internal("creating invitation", err)
	}
}

func (s *Store) Invite(ctx context.Context, id string) (*accountd.Invite, error) {
	i, err := scanInvite(s.queryRow(ctx, "SELECT "+inviteColumns+" FROM org_invites i JOIN orgs o ON o.id = i.org_id WHERE i.id = ?", id))
	switch {
	case err == nil:
		return i, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, accountd.NotFound("invitation")
	default:
		return nil, internal("reading invitation", err)
	}
}

func (s *Store) PendingInvites(ctx context.Context, orgID, email string) ([]*accountd.Invite, error) {
	where, arg := "i.org_id = ?", orgID
	if orgID == "" {
		where, arg = "i.email_key = ?", accountd.EmailKey(email)
	}
	rows, err := s.query(ctx, "SELECT "+inviteColumns+" FROM org_invites i JOIN orgs o ON o.id = i.org_id WHERE "+where+
		" AND i.answer = '' ORDER BY i.created_at, i.id", arg)
	if err != nil {
		return nil, internal("listing invitations", err)
	}
	defer rows.Close()
	out := []*accountd.Invite{}
	for rows.Next() {
		i, err := scanInvite(rows)
		if err != nil {
			return nil, internal("listing invitations", err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing invitations", err)
	}
	return out, nil
}

// AnswerInvite sets the answer only where none is yet, so that the
// database, not a read before the write, decides which of two answers wins.
func (s *Store) AnswerInvite(ctx context.Context, id, answer string) (bool, error) {
	res, err := s.exec(ctx, "UPDATE org_invites SET answer = ? WHERE id = ? AND answer = ''", answer, id)
	if err != nil {
		return false, internal("answering invitation", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, internal("answering invitation", err)
	}
	return n == 1, nil
}

func (s *Store) DeleteInvite(ctx context.Context, id string) error {
	res, err := s.exec(ctx, "DELETE FROM org_invites WHERE id = ?", id)
	if err != nil {
		return internal("deleting invitation", err)
	}
	return oneRow(res, "invitation", "deleting invitation")
}
