package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/accountd/accountd"
)

const orgColumns = "o.id, o.name, o.description, o.icon_color, o.mfa_mode, o.plan_id, o.billing_email, o.created_at, o.updated_at"

func scanOrg(row scanner) (*accountd.Org, error) {
	var (
		o                accountd.Org
		created, updated int64
	)
	if err := row.Scan(&o.ID, &o.Name, &o.Description, &o.IconColor, &o.MFAMode, &o.PlanID, &o.BillingEmail, &created, &updated); err != nil {
		return nil, err
	}
	o.CreatedAt, o.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &o, nil
}

func (s *Store) CreateOrg(ctx context.Context, o *accountd.Org, admin accountd.Member) error {
	return s.inTx(ctx, func(tx *Store) error {
		_, err := tx.exec(ctx, "INSERT INTO orgs (id, name, description, icon_color, mfa_mode, plan_id, billing_email, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			o.ID, o.Name, o.Description, o.IconColor, o.MFAMode, o.PlanID, o.BillingEmail, millis(o.CreatedAt), millis(o.UpdatedAt))
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
	// so do the members' roles on it, when it is a deleted resource
	if _, err := s.exec(ctx, "DELETE FROM org_member_roles WHERE resource_id = ?", id); err != nil {
		return internal("dropping member roles", err)
	}
	return nil
}

const memberColumns = "m.org_id, m.user_id, m.role, u.email, u.first_name, u.last_name, m.created_at, m.disallow_transfer"

func (s *Store) Members(ctx context.Context, orgID string) ([]accountd.Member, error) {
	var out []accountd.Member
	err := s.members(ctx, "SELECT "+memberColumns+` FROM org_members m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ? ORDER BY m.created_at, m.user_id`, []any{orgID}, func(m accountd.Member) { out = append(out, m) })
	if err != nil || len(out) == 0 {
		return out, err
	}
	roles, err := s.resourceRoles(ctx, "org_id = ?", []any{orgID})
	for i := range out {
		out[i].ResourceRoles = roles[memberKey{out[i].OrgID, out[i].UserID}]
	}
	return out, err
}

type memberKey struct{ orgID, userID string }

// resourceRoles reads the per-resource roles of the members where cond
// holds, by member, each ordered by kind then resource id.
func (s *Store) resourceRoles(ctx context.Context, cond string, args []any) (map[memberKey][]accountd.ResourceRole, error) {
	rows, err := s.query(ctx, "SELECT org_id, user_id, kind, resource_id, role FROM org_member_roles WHERE "+cond+
		" ORDER BY org_id, user_id, kind, resource_id", args...)
	if err != nil {
		return nil, internal("listing member roles", err)
	}
	defer rows.Close()
	out := map[memberKey][]accountd.ResourceRole{}
	for rows.Next() {
		var (
			k    memberKey
			r    accountd.ResourceRole
			role string
		)
		if err := rows.Scan(&k.orgID, &k.userID, &r.Kind, &r.ResourceID, &role); err != nil {
			return nil, internal("listing member roles", err)
		}
		r.Role = accountd.Role(role)
		out[k] = append(out[k], r)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing member roles", err)
	}
	return out, nil
}

// MembersOf is one query however many organizations a page holds. The
// list of ids is padded to a power of two with its last id, so that a few
// statement texts serve every page size and each is prepared once.
func (s *Store) MembersOf(ctx context.Context, orgIDs []string) (map[string][]accountd.Member, error) {
	out := make(map[string][]accountd.Member, len(orgIDs))
	if len(orgIDs) == 0 {
		return out, nil
	}
	args := paddedIDs(orgIDs)
	in := strings.Repeat("?, ", len(args)-1) + "?"
	err := s.members(ctx, "SELECT "+memberColumns+` FROM org_members m JOIN users u ON u.id = m.user_id
		WHERE m.org_id IN (`+in+`) ORDER BY m.org_id, m.created_at, m.user_id`, args, func(m accountd.Member) {
		out[m.OrgID] = append(out[m.OrgID], m)
	})
	if err != nil {
		return out, err
	}
	roles, err := s.resourceRoles(ctx, "org_id IN ("+in+")", args)
	for _, members := range out {
		for i := range members {
			members[i].ResourceRoles = roles[memberKey{members[i].OrgID, members[i].UserID}]
		}
	}
	return out, err
}

// paddedIDs pads a list of ids to a power of two with its last id, so that
// a few statement texts serve every page size and each is prepared once.
func paddedIDs(ids []string) []any {
	n := 1
	for n < len(ids) {
		n *= 2
	}
	args := make([]any, n)
	for i := range args {
		args[i] = ids[min(i, len(ids)-1)]
	}
	return args
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
		if err := rows.Scan(&m.OrgID, &m.UserID, &role, &m.Email, &m.FirstName, &m.LastName, &created, &m.DisallowTransfer); err != nil {
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
		_, err := tx.exec(ctx, "INSERT INTO org_members (org_id, user_id, role, created_at, disallow_transfer) VALUES (?, ?, ?, ?, ?)",
			m.OrgID, m.UserID, string(m.Role), millis(m.CreatedAt), m.DisallowTransfer)
		switch {
		case err == nil:
			tx.recordOwnerEvent(accountd.OwnerUser, m.UserID)
			return tx.insertResourceRoles(ctx, m.OrgID, m.UserID, m.ResourceRoles)
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
	return s.inTx(ctx, func(tx *Store) error {
		res, err := tx.exec(ctx, "UPDATE org_members SET role = ? WHERE org_id = ? AND user_id = ?", string(role), orgID, userID)
		if err != nil {
			return internal("updating member", err)
		}
		if err := oneRow(res, "member", "updating member"); err != nil {
			return err
		}
		tx.recordOwnerEvent(accountd.OwnerUser, userID)
		return nil
	})
}

func (s *Store) SetResourceRoles(ctx context.Context, orgID, userID string, roles []accountd.ResourceRole) error {
	return s.inTx(ctx, func(tx *Store) error {
		if _, err := tx.MemberRole(ctx, orgID, userID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "DELETE FROM org_member_roles WHERE org_id = ? AND user_id = ?", orgID, userID); err != nil {
			return internal("updating member roles", err)
		}
		tx.recordOwnerEvent(accountd.OwnerUser, userID)
		return tx.insertResourceRoles(ctx, orgID, userID, roles)
	})
}

func (s *Store) insertResourceRoles(ctx context.Context, orgID, userID string, roles []accountd.ResourceRole) error {
	for _, r := range roles {
		_, err := s.exec(ctx, "INSERT INTO org_member_roles (org_id, user_id, kind, resource_id, role) VALUES (?, ?, ?, ?, ?)",
			orgID, userID, r.Kind, r.ResourceID, string(r.Role))
		switch {
		case err == nil:
		case s.d.IsUniqueViolation(err):
			return accountd.Invalid("resourceId", "%s is named twice", r.ResourceID)
		default:
			return internal("adding member roles", err)
		}
	}
	return nil
}

func (s *Store) MemberAccess(ctx context.Context, orgID, userID, resourceID string) (accountd.Role, accountd.Role, error) {
	var role, resourceRole string
	err := s.queryRow(ctx, `SELECT m.role, COALESCE(r.role, '') FROM org_members m
		LEFT JOIN org_member_roles r ON r.user_id = m.user_id AND r.resource_id = ? AND r.org_id = m.org_id
		WHERE m.org_id = ? AND m.user_id = ?`, resourceID, orgID, userID).Scan(&role, &resourceRole)
	switch {
	case err == nil:
		return accountd.Role(role), accountd.Role(resourceRole), nil
	case errors.Is(err, sql.ErrNoRows):
		return "", "", accountd.NotFound("member")
	default:
		return "", "", internal("reading membership", err)
	}
}

// ownerCountColumns counts, for the owner named by the SQL expressions
// typ and id, what ownerCounts scans.
func ownerCountColumns(typ, id string) string {
	own := "a.owner_id = " + id + " AND a.owner_type = " + typ
	return `(SELECT COUNT(*) FROM applications a WHERE ` + own + `),
		(SELECT COUNT(*) FROM dashboards a WHERE ` + own + `),
		(SELECT COUNT(*) FROM devices d JOIN applications a ON a.id = d.application_id WHERE ` + own + `),
		(SELECT COUNT(*) FROM flows f JOIN applications a ON a.id = f.application_id WHERE ` + own + `)`
}

func (s *Store) OwnerCounts(ctx context.Context, ownerType, ownerID string) (accountd.OwnerCounts, error) {
	var c accountd.OwnerCounts
	err := s.queryRow(ctx, "SELECT "+ownerCountColumns("?", "?"), ownerID, ownerType, ownerID, ownerType, ownerID, ownerType, ownerID, ownerType).
		Scan(&c.Apps, &c.Dashboards, &c.Devices, &c.Flows)
	if err != nil {
		return c, internal("counting owned resources", err)
	}
	return c, nil
}

// OrgSummaries is one statement of scalar subqueries per organization;
// its list of ids is padded as MembersOf's is.
func (s *Store) OrgSummaries(ctx context.Context, orgIDs []string) (map[string]accountd.OrgSummary, error) {
	out := make(map[string]accountd.OrgSummary, len(orgIDs))
	if len(orgIDs) == 0 {
		return out, nil
	}
	args := paddedIDs(orgIDs)
	rows, err := s.query(ctx, "SELECT o.id, "+ownerCountColumns("'organization'", "o.id")+`,
		(SELECT COUNT(*) FROM org_members m WHERE m.org_id = o.id),
		(SELECT COUNT(*) FROM org_invites i WHERE i.org_id = o.id AND i.answer = '')
		FROM orgs o WHERE o.id IN (`+strings.Repeat("?, ", len(args)-1)+"?)", args...)
	if err != nil {
		return nil, internal("counting organization summaries", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			c  accountd.OrgSummary
		)
		if err := rows.Scan(&id, &c.Apps, &c.Dashboards, &c.Devices, &c.Flows, &c.Members, &c.PendingInvites); err != nil {
			return nil, internal("counting organization summaries", err)
		}
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, internal("counting organization summaries", err)
	}
	return out, nil
}

func (s *Store) CountOrgs(ctx context.Context, userID string) (int, error) {
	return s.count(ctx, "counting organizations", "SELECT COUNT(*) FROM org_members WHERE user_id = ?", userID)
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
	i.created_at, i.expires_at, i.answer, i.resource_roles, i.disallow_transfer`

func scanInvite(row scanner) (*accountd.Invite, error) {
	var (
		i                accountd.Invite
		role             string
		created, expires int64
	)
	var roles string
	err := row.Scan(&i.ID, &i.OrgID, &i.OrgName, &i.OrgMFAMode, &i.Email, &role, &i.InvitedByName, &i.InvitedByEmail,
		&created, &expires, &i.Answer, &roles, &i.DisallowTransfer)
	if err != nil {
		return nil, err
	}
	if i.ResourceRoles, err = decodeResourceRoles(roles); err != nil {
		return nil, err
	}
	i.Role, i.CreatedAt, i.ExpiresAt = accountd.Role(role), fromMillis(created), fromMillis(expires)
	return &i, nil
}

func (s *Store) CreateInvite(ctx context.Context, i *accountd.Invite) error {
	roles, err := encodeResourceRoles(i.ResourceRoles)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO org_invites (id, org_id, email, email_key, role, invited_by_name, invited_by_email,
		created_at, expires_at, answer, resource_roles, disallow_transfer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		i.ID, i.OrgID, i.Email, accountd.EmailKey(i.Email), string(i.Role), i.InvitedByName, i.InvitedByEmail,
		millis(i.CreatedAt), millis(i.ExpiresAt), i.Answer, roles, i.DisallowTransfer)
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

// storedRole is how an invitation keeps one of its per-resource roles.
type storedRole struct {
	Kind       string `json:"kind"`
	ResourceID string `json:"resourceId"`
	Role       string `json:"role"`
}

func encodeResourceRoles(roles []accountd.ResourceRole) (string, error) {
	out := make([]storedRole, len(roles))
	for i, r := range roles {
		out[i] = storedRole{r.Kind, r.ResourceID, string(r.Role)}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", internal("encoding invitation roles", err)
	}
	return string(b), nil
}

func decodeResourceRoles(s string) ([]accountd.ResourceRole, error) {
	var in []storedRole
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decoding invitation roles: %w", err)
	}
	var out []accountd.ResourceRole
	for _, r := range in {
		out = append(out, accountd.ResourceRole{Kind: r.Kind, ResourceID: r.ResourceID, Role: accountd.Role(r.Role)})
	}
	return out, nil
}
