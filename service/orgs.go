package service

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

// InviteTTL is how long an invitation can be answered.
const InviteTTL = 7 * 24 * time.Hour

// NewOrg is what POST /orgs carries. CardToken is checked and dropped:
// accountd takes no payments, and keeps no payment secret.
type NewOrg struct {
	Name, Description, IconColor, MFAMode string
	PlanID, BillingEmail, CardToken       string
}

// MaxCardTokenLen is orgPost.json's limit on cardToken.
const MaxCardTokenLen = 1024

// OrgView is an organization with its members, what it counts, and the
// limits it has.
type OrgView struct {
	Org     *accountd.Org
	Members []accountd.Member
	Summary accountd.OrgSummary
	Limits  Limits
}

func (s *Service) orgView(ctx context.Context, o *accountd.Org) (OrgView, error) {
	m, err := s.store.Members(ctx, o.ID)
	if err != nil {
		return OrgView{}, err
	}
	sums, err := s.store.OrgSummaries(ctx, []string{o.ID})
	if err != nil {
		return OrgView{}, err
	}
	return OrgView{Org: o, Members: m, Summary: sums[o.ID], Limits: s.limits.Org}, nil
}

// needsMFA refuses role in org for a user without two-factor auth when the
// organization requires it of that role.
func (s *Service) needsMFA(ctx context.Context, st accountd.Store, org *accountd.Org, role accountd.Role, userID, who string) error {
	if !org.NeedsMFA(role) {
		return nil
	}
	on, err := s.twoFactorOn(ctx, st, userID)
	if err != nil || on {
		return err
	}
	who2 := "every member"
	if org.MFAMode == accountd.MFAAdminRequired {
		who2 = "its admins"
	}
	return accountd.Errorf(accountd.CodeInvalid,
		"organization %q requires two-factor authentication of %s (mfaMode %s), and %s does not have it enabled",
		org.Name, who2, org.MFAMode, who)
}

// CreateOrg makes an organization with the caller as its admin.
func (s *Service) CreateOrg(ctx context.Context, p accountd.Principal, n NewOrg) (OrgView, error) {
	u, err := s.Me(ctx, p)
	if err != nil {
		return OrgView{}, err
	}
	now := accountd.Millis(s.now())
	o := &accountd.Org{ID: accountd.NewID(now), Name: n.Name, Description: n.Description, IconColor: n.IconColor,
		MFAMode: n.MFAMode, PlanID: n.PlanID, BillingEmail: strings.TrimSpace(n.BillingEmail), CreatedAt: now, UpdatedAt: now}
	if len(n.CardToken) > MaxCardTokenLen {
		return OrgView{}, accountd.Invalid("cardToken", "must be at most %d characters", MaxCardTokenLen)
	}
	if o.MFAMode == "" {
		o.MFAMode = accountd.MFANotRequired
	}
	if err := o.Validate(); err != nil {
		return OrgView{}, err
	}
	if err := s.needsMFA(ctx, s.store, o, accountd.RoleAdmin, u.ID, "your account"); err != nil {
		return OrgView{}, err
	}
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		if err := s.orgsWithin(ctx, tx, u.ID); err != nil {
			return err
		}
		return tx.CreateOrg(ctx, o, accountd.Member{UserID: u.ID, Role: accountd.RoleAdmin, CreatedAt: now})
	})
	if err != nil {
		return OrgView{}, err
	}
	return s.orgView(ctx, o)
}

// Org returns an organization the caller is a member of.
func (s *Service) Org(ctx context.Context, p accountd.Principal, orgID string) (OrgView, error) {
	o, _, err := s.orgFor(ctx, s.store, p, orgID, opRead)
	if err != nil {
		return OrgView{}, err
	}
	return s.orgView(ctx, o)
}

// OrgPage is one page of organizations.
type OrgPage struct {
	Orgs  []OrgView
	Total int
	Query accountd.ListQuery
}

// Orgs lists the organizations the caller is a member of.
func (s *Service) Orgs(ctx context.Context, p accountd.Principal, q accountd.ListQuery) (OrgPage, error) {
	if err := checkList(&q, []string{"name", "id", "creationDate", "lastUpdated"}); err != nil {
		return OrgPage{}, err
	}
	orgs, total, err := s.store.Orgs(ctx, p.UserID, q)
	if err != nil {
		return OrgPage{}, err
	}
	ids := make([]string, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	members, err := s.store.MembersOf(ctx, ids)
	if err != nil {
		return OrgPage{}, err
	}
	sums, err := s.store.OrgSummaries(ctx, ids)
	if err != nil {
		return OrgPage{}, err
	}
	out := OrgPage{Total: total, Query: q, Orgs: make([]OrgView, 0, len(orgs))}
	for _, o := range orgs {
		out.Orgs = append(out.Orgs, OrgView{Org: o, Members: members[o.ID], Summary: sums[o.ID], Limits: s.limits.Org})
	}
	return out, nil
}

// checkList fills in list defaults and checks the sort field against
// those the action allows (and the filter field, which is always name).
func checkList(q *accountd.ListQuery, sortFields []string) error {
	if q.SortField == "" {
		q.SortField = "name"
	}
	if !slices.Contains(sortFields, q.SortField) {
		return accountd.Invalid("sortField", "must be one of %s", strings.Join(sortFields, ", "))
	}
	if q.FilterField != "" && q.FilterField != "name" {
		return accountd.Invalid("filterField", "must be name")
	}
	if q.FilterField == "" || q.Filter == "" {
		q.FilterField, q.Filter = "", ""
	}
	return checkPaging(&q.SortDirection, &q.Page, &q.PerPage)
}

// DeleteOrg removes an organization; only an admin may, and only once it
// owns no applications or dashboards, so nothing is lost with it.
func (s *Service) DeleteOrg(ctx context.Context, p accountd.Principal, orgID string) error {
	// as for accounts: buffered device state counts go before the usage does
	if err := s.flushStates(ctx); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx accountd.Store) error {
		o, _, err := s.orgFor(ctx, tx, p, orgID, opAdmin)
		if err != nil {
			return err
		}
		if err := tx.LockOwner(ctx, accountd.OwnerOrg, o.ID); err != nil {
			return err
		}
		apps, dashes, err := tx.CountOwned(ctx, accountd.OwnerOrg, o.ID)
		if err != nil {
			return err
		}
		if apps+dashes > 0 {
			return accountd.Errorf(accountd.CodeInvalid,
				"organization %q still owns %s and %s: delete them first", o.Name, count(apps, "application"), count(dashes, "dashboard"))
		}
		return tx.DeleteOrg(ctx, o.ID)
	})
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// lastAdmin refuses a change that would leave the organization without
// an admin.
func lastAdmin(members []accountd.Member, userID string) bool {
	for _, m := range members {
		if m.Role == accountd.RoleAdmin && m.UserID != userID {
			return false
		}
	}
	return true
}

func findMember(members []accountd.Member, userID string) (accountd.Member, bool) {
	for _, m := range members {
		if m.UserID == userID {
			return m, true
		}
	}
	return accountd.Member{}, false
}

// MemberChange is what PATCH /orgs/{orgId}/member carries: what is nil
// stays as it is.
type MemberChange struct {
	Role                             *accountd.Role
	ApplicationRoles, DashboardRoles *[]accountd.ResourceRole
}

// roleWords names the member roles for messages.
const roleWords = "admin, edit, collaborate, view or none"

// ModifyMember changes a member's role and per-resource roles; admins
// only. The last admin cannot be demoted.
func (s *Service) ModifyMember(ctx context.Context, p accountd.Principal, orgID, userID string, c MemberChange) (OrgView, error) {
	role := c.Role
	if role == nil && c.ApplicationRoles == nil && c.DashboardRoles == nil {
		return OrgView{}, accountd.Invalid("role", "is required unless applicationRoles or dashboardRoles is given")
	}
	if role != nil && !role.Valid() {
		return OrgView{}, accountd.Invalid("role", "must be %s", roleWords)
	}
	var o *accountd.Org
	err := s.store.InTx(ctx, func(tx accountd.Store) error {
		var err error
		if o, _, err = s.orgFor(ctx, tx, p, orgID, opAdmin); err != nil {
			return err
		}
		members, err := tx.Members(ctx, orgID)
		if err != nil {
			return err
		}
		m, ok := findMember(members, userID)
		if !ok {
			return accountd.NotFound("member")
		}
		if c.ApplicationRoles != nil || c.DashboardRoles != nil {
			apps, dashes := SplitRoles(m.ResourceRoles)
			if c.ApplicationRoles != nil {
				apps = withKind(*c.ApplicationRoles, accountd.KindApplication)
			}
			if c.DashboardRoles != nil {
				dashes = withKind(*c.DashboardRoles, accountd.KindDashboard)
			}
			if err := s.checkResourceRoles(ctx, tx, o, "applicationRoles", apps); err != nil {
				return err
			}
			if err := s.checkResourceRoles(ctx, tx, o, "dashboardRoles", dashes); err != nil {
				return err
			}
			if err := tx.SetResourceRoles(ctx, orgID, userID, append(apps, dashes...)); err != nil {
				return err
			}
		}
		if role == nil {
			return nil
		}
		if m.Role == accountd.RoleAdmin && *role != accountd.RoleAdmin && lastAdmin(members, userID) {
			return accountd.Invalid("role", "the organization's only admin cannot be given another role; make another member admin first")
		}
		if err := s.needsMFA(ctx, tx, o, *role, userID, "that member"); err != nil {
			return err
		}
		return tx.SetMemberRole(ctx, orgID, userID, *role)
	})
	if err != nil {
		return OrgView{}, err
	}
	// what the member sees changed: at once here, by the event elsewhere
	s.meViews.forget(userID)
	return s.orgView(ctx, o)
}

// RemoveMember removes a member: an admin may remove anyone, any member
// may leave. The last admin cannot go.
func (s *Service) RemoveMember(ctx context.Context, p accountd.Principal, orgID, userID string) (OrgView, error) {
	if !accountd.ValidID(userID) {
		return OrgView{}, accountd.Invalid("userId", "must be 24 hex characters")
	}
	need := opAdmin
	if userID == p.UserID {
		need = opRead
	}
	var o *accountd.Org
	err := s.store.InTx(ctx, func(tx accountd.Store) error {
		var err error
		if o, _, err = s.orgFor(ctx, tx, p, orgID, need); err != nil {
			return err
		}
		members, err := tx.Members(ctx, orgID)
		if err != nil {
			return err
		}
		m, ok := findMember(members, userID)
		if !ok {
			return accountd.NotFound("member")
		}
		if m.Role == accountd.RoleAdmin && lastAdmin(members, userID) {
			return accountd.Invalid("userId", "the organization's only admin cannot leave it; make another member admin or delete the organization first")
		}
		return tx.RemoveMember(ctx, orgID, userID)
	})
	if err != nil {
		return OrgView{}, err
	}
	s.meViews.forget(userID)
	// a member who left may no longer see the organization: the answer is
	// what it is now, without them, all the same
	return s.orgView(ctx, o)
}

// NewInvite is what POST /orgs/{orgId}/invites carries.
type NewInvite struct {
	Email                            string
	Role                             accountd.Role
	ApplicationRoles, DashboardRoles []accountd.ResourceRole
	DisallowTransfer                 bool
}

// InviteMember invites an email address to the organization with a role
// (and per-resource roles); admins only. It returns the organization's
// pending invitations.
func (s *Service) InviteMember(ctx context.Context, p accountd.Principal, orgID string, n NewInvite) ([]*accountd.Invite, error) {
	email, role := strings.TrimSpace(n.Email), n.Role
	if err := accountd.ValidateEmail("email", email); err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, accountd.Invalid("role", "must be %s", roleWords)
	}
	apps, dashes := withKind(n.ApplicationRoles, accountd.KindApplication), withKind(n.DashboardRoles, accountd.KindDashboard)
	u, err := s.Me(ctx, p)
	if err != nil {
		return nil, err
	}
	now := accountd.Millis(s.now())
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		o, _, err := s.orgFor(ctx, tx, p, orgID, opAdmin)
		if err != nil {
			return err
		}
		members, err := tx.Members(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, m := range members {
			if accountd.EmailKey(m.Email) == accountd.EmailKey(email) {
				return accountd.Invalid("email", "already belongs to a member of the organization")
			}
		}
		pending, err := tx.PendingInvites(ctx, o.ID, "")
		if err != nil {
			return err
		}
		for _, i := range pending {
			if accountd.EmailKey(i.Email) == accountd.EmailKey(email) && !i.Expired(now) {
				return accountd.Invalid("email", "already has a pending invitation; revoke it first to invite again")
			}
		}
		if err := s.checkResourceRoles(ctx, tx, o, "applicationRoles", apps); err != nil {
			return err
		}
		if err := s.checkResourceRoles(ctx, tx, o, "dashboardRoles", dashes); err != nil {
			return err
		}
		return tx.CreateInvite(ctx, &accountd.Invite{
			ID: accountd.NewID(now), OrgID: o.ID, Email: email, Role: role,
			InvitedByName: u.FullName(), InvitedByEmail: u.Email, CreatedAt: now, ExpiresAt: now.Add(InviteTTL),
			ResourceRoles: append(apps, dashes...), DisallowTransfer: n.DisallowTransfer,
		})
	})
	if err != nil {
		return nil, err
	}
	return s.store.PendingInvites(ctx, orgID, "")
}

// PendingInvites lists an organization's unanswered invitations; admins
// only.
func (s *Service) PendingInvites(ctx context.Context, p accountd.Principal, orgID string) ([]*accountd.Invite, error) {
	if _, _, err := s.orgFor(ctx, s.store, p, orgID, opAdmin); err != nil {
		return nil, err
	}
	return s.store.PendingInvites(ctx, orgID, "")
}

// RevokeInvite withdraws a pending invitation; admins only.
func (s *Service) RevokeInvite(ctx context.Context, p accountd.Principal, orgID, inviteID string) ([]*accountd.Invite, error) {
	if !accountd.ValidID(inviteID) {
		return nil, accountd.Invalid("inviteId", "must be 24 hex characters")
	}
	if _, _, err := s.orgFor(ctx, s.store, p, orgID, opAdmin); err != nil {
		return nil, err
	}
	i, err := s.store.Invite(ctx, inviteID)
	if err == nil && (i.OrgID != orgID || i.Answer != "") {
		err = accountd.NotFound("invitation")
	}
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteInvite(ctx, inviteID); err != nil {
		return nil, err
	}
	return s.store.PendingInvites(ctx, orgID, "")
}

// MyInvites lists the pending invitations addressed to the caller's email.
// Only a verified address receives invitations: otherwise changing one's
// email to someone else's would show theirs.
func (s *Service) MyInvites(ctx context.Context, p accountd.Principal) ([]*accountd.Invite, error) {
	u, err := s.Me(ctx, p)
	if err != nil {
		return nil, err
	}
	if !u.EmailVerified {
		return []*accountd.Invite{}, nil
	}
	return s.store.PendingInvites(ctx, "", u.Email)
}

// myInvite returns an invitation addressed to u; any other is "not found".
func (s *Service) myInvite(ctx context.Context, st accountd.Store, u *accountd.User, id string) (*accountd.Invite, error) {
	if !accountd.ValidID(id) {
		return nil, accountd.Invalid("inviteId", "must be 24 hex characters")
	}
	i, err := st.Invite(ctx, id)
	if err == nil && accountd.EmailKey(i.Email) != accountd.EmailKey(u.Email) {
		err = accountd.NotFound("invitation")
	}
	return i, err
}

// MyInvite returns one pending invitation addressed to the caller.
func (s *Service) MyInvite(ctx context.Context, p accountd.Principal, id string) (*accountd.Invite, error) {
	u, err := s.Me(ctx, p)
	if err != nil {
		return nil, err
	}
	i, err := s.myInvite(ctx, s.store, u, id)
	if err == nil && (!u.EmailVerified || i.Answer != "") {
		err = accountd.NotFound("invitation")
	}
	if err != nil {
		return nil, err
	}
	return i, nil
}

// Invitation actions and their results.
var inviteResults = map[string]string{"accept": accountd.InviteAccepted, "reject": accountd.InviteRejected, "dismiss": accountd.InviteDismissed}

// RespondToInvite accepts, rejects or dismisses an invitation addressed to
// the caller, once: the answer and the membership land together, and a
// second answer is refused. It returns the result and the organization.
func (s *Service) RespondToInvite(ctx context.Context, p accountd.Principal, id, action string) (string, string, error) {
	result, ok := inviteResults[action]
	if !ok {
		return "", "", accountd.Invalid("action", "must be accept, reject or dismiss")
	}
	u, err := s.Me(ctx, p)
	if err != nil {
		return "", "", err
	}
	now := accountd.Millis(s.now())
	var (
		orgID string
		ann   announcements
	)
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		ann = nil
		i, err := s.myInvite(ctx, tx, u, id)
		if err != nil {
			return err
		}
		orgID = i.OrgID
		switch {
		case !u.EmailVerified:
			return accountd.Invalid("email", "must be verified before answering invitations sent to it")
		case i.Answer != "":
			return accountd.Invalid("inviteId", "the invitation was already answered (%s)", i.Answer)
		case i.Expired(now):
			return accountd.Errorf(accountd.CodeGone, "the invitation expired at %s", accountd.FormatTime(i.ExpiresAt))
		}
		if result == accountd.InviteAccepted {
			org, err := tx.Org(ctx, i.OrgID)
			if err != nil {
				return err
			}
			if err := s.needsMFA(ctx, tx, org, i.Role, u.ID, "your account"); err != nil {
				var e *accountd.Error
				if errors.As(err, &e) && e.Code == accountd.CodeInvalid {
					e.Message += ": enable it, then accept"
				}
				return err
			}
		}
		won, err := tx.AnswerInvite(ctx, i.ID, result)
		if err != nil {
			return err
		}
		if !won {
			return accountd.Invalid("inviteId", "the invitation was already answered")
		}
		if err := ann.record(ctx, s, tx, SecurityEntry{UserID: u.ID, Kind: accountd.SecInvitationAnswered,
			ObjectType: "organization", ObjectID: i.OrgID,
			Detail: map[string]string{"answer": result, "invite": i.ID, "role": string(i.Role)}}); err != nil {
			return err
		}
		if result != accountd.InviteAccepted {
			return nil
		}
		if err := s.orgsWithin(ctx, tx, u.ID); err != nil {
			return err
		}
		// a resource the invitation named may have gone since
		var roles []accountd.ResourceRole
		for _, r := range i.ResourceRoles {
			owned, err := s.orgOwns(ctx, tx, i.OrgID, r.Kind, r.ResourceID)
			if err != nil {
				return err
			}
			if owned {
				roles = append(roles, r)
			}
		}
		err = tx.AddMember(ctx, accountd.Member{OrgID: i.OrgID, UserID: u.ID, Role: i.Role, CreatedAt: now,
			ResourceRoles: roles, DisallowTransfer: i.DisallowTransfer})
		if errors.Is(err, accountd.ErrConflict) {
			return accountd.Invalid("inviteId", "you are already a member of the organization")
		}
		return err
	})
	if err != nil {
		return "", "", err
	}
	ann.run()
	return result, orgID, nil
}

// Now is the service's clock, so that wire mappings judge expiry by the
// same time the rules do.
func (s *Service) Now() time.Time { return s.now() }

// withKind gives per-resource roles read from a list of one kind their
// kind.
func withKind(roles []accountd.ResourceRole, kind string) []accountd.ResourceRole {
	out := make([]accountd.ResourceRole, len(roles))
	for i, r := range roles {
		r.Kind = kind
		out[i] = r
	}
	return out
}

// SplitRoles splits a member's per-resource roles into their
// applicationRoles and dashboardRoles.
func SplitRoles(roles []accountd.ResourceRole) (apps, dashes []accountd.ResourceRole) {
	apps, dashes = []accountd.ResourceRole{}, []accountd.ResourceRole{}
	for _, r := range roles {
		if r.Kind == accountd.KindApplication {
			apps = append(apps, r)
		} else {
			dashes = append(dashes, r)
		}
	}
	return apps, dashes
}
