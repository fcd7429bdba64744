package accountd

import (
	"context"
	"time"
	"unicode/utf8"
)

// Role is what an organization member may do. The service decides what
// each role allows (service/access.go); the store only keeps it.
type Role string

const (
	RoleAdmin       Role = "admin"
	RoleEdit        Role = "edit"
	RoleCollaborate Role = "collaborate"
	RoleView        Role = "view"
	// RoleNone is a member who sees the organization but none of its
	// resources, but those their ResourceRoles grant.
	RoleNone Role = "none"
)

// Roles lists the member roles accountd keeps, most powerful first.
var Roles = []Role{RoleAdmin, RoleEdit, RoleCollaborate, RoleView, RoleNone}

// ResourceRoleValues lists the roles a member may hold on one application
// or dashboard (orgMemberPatch.json applicationRoles, dashboardRoles).
var ResourceRoleValues = []Role{RoleCollaborate, RoleView, RoleNone}

// ResourceRole is a member's role on one application or dashboard of the
// organization: for a member who is not an admin it replaces the member's
// organization role on that resource (service/access.go).
type ResourceRole struct {
	Kind       string // KindApplication or KindDashboard
	ResourceID string
	Role       Role
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// MFA modes of an organization (orgPost.json mfaMode): who must have
// two-factor auth on to be a member.
const (
	MFANotRequired   = "notRequired"
	MFAAdminRequired = "adminRequired"
	MFARequired      = "required"
)

// Org is an organization: a group of members that owns applications and
// dashboards together.
type Org struct {
	ID          string
	Name        string
	Description string
	IconColor   string
	MFAMode     string
	// PlanID and BillingEmail are kept as data: accountd bills nobody.
	PlanID       string
	BillingEmail string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Field limits of organizations, from orgPost.json.
const (
	MaxNameLen        = 255
	MaxDescriptionLen = 32767
	MaxIconColorLen   = 64
	MaxPlanIDLen      = 1024
)

// Validate checks the invariants a stored organization must keep.
func (o *Org) Validate() error {
	if !ValidID(o.ID) {
		return Invalid("id", "must be 24 hex characters")
	}
	if err := validName(o.Name); err != nil {
		return err
	}
	if utf8.RuneCountInString(o.Description) > MaxDescriptionLen {
		return Invalid("description", "must be at most %d characters", MaxDescriptionLen)
	}
	if utf8.RuneCountInString(o.PlanID) > MaxPlanIDLen {
		return Invalid("planId", "must be at most %d characters", MaxPlanIDLen)
	}
	if o.BillingEmail != "" {
		if err := ValidateEmail("billingEmail", o.BillingEmail); err != nil {
			return err
		}
	}
	if utf8.RuneCountInString(o.IconColor) > MaxIconColorLen {
		return Invalid("iconColor", "must be at most %d characters", MaxIconColorLen)
	}
	switch o.MFAMode {
	case MFANotRequired, MFAAdminRequired, MFARequired:
	default:
		return Invalid("mfaMode", "must be notRequired, adminRequired or required")
	}
	return nil
}

// NeedsMFA reports whether a member with role must have two-factor auth on.
func (o *Org) NeedsMFA(role Role) bool {
	return o.MFAMode == MFARequired || o.MFAMode == MFAAdminRequired && role == RoleAdmin
}

func validName(name string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxNameLen {
		return Invalid("name", "must be 1 to %d characters", MaxNameLen)
	}
	return nil
}

// Member is one user's membership of an organization, with the user's
// profile as it is now.
type Member struct {
	OrgID     string
	UserID    string
	Role      Role
	Email     string
	FirstName string
	LastName  string
	CreatedAt time.Time
	// ResourceRoles are the member's roles on single resources, by kind
	// then resource id.
	ResourceRoles []ResourceRole
	// DisallowTransfer forbids the member to transfer resources into the
	// organization.
	DisallowTransfer bool
}

// Invite answers.
const (
	InviteAccepted  = "accepted"
	InviteRejected  = "rejected"
	InviteDismissed = "dismissed"
)

// Invite is an invitation to join an organization, addressed to an email
// address (compared without regard to case). The invited user finds it
// under /me/invites once signed in with that, verified, address; no secret
// travels with it, so none is stored.
type Invite struct {
	ID             string
	OrgID          string
	OrgName        string // read from the organization; not stored with the invite
	OrgMFAMode     string // likewise
	Email          string
	Role           Role
	InvitedByName  string
	InvitedByEmail string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	Answer         string // "" while pending, else one of the Invite* answers
	// ResourceRoles and DisallowTransfer are what the member will have.
	ResourceRoles    []ResourceRole
	DisallowTransfer bool
}

// Expired reports whether the invitation can no longer be answered at now.
func (i *Invite) Expired(now time.Time) bool { return !now.Before(i.ExpiresAt) }

// OwnerCounts are what a user or an organization owns directly: its
// applications and dashboards, and the devices and flows of those
// applications.
type OwnerCounts struct {
	Apps, Dashboards, Devices, Flows int
}

// OrgSummary is what the summary of an organization counts.
type OrgSummary struct {
	OwnerCounts
	Members, PendingInvites int
}

// ListQuery selects a page of a list, as the reference's collection
// endpoints do: sort field and direction, page from 0, page size, and an
// optional glob filter (* matches any run of characters) on one field.
type ListQuery struct {
	SortField     string
	SortDirection string
	Page          int
	PerPage       int
	FilterField   string
	Filter        string
}

// OrgStore persists organizations, their members and invitations, and the
// resources users and organizations own. Errors follow Store: a missing row
// is ErrNotFound, a duplicate is ErrConflict.
type OrgStore interface {
	// CreateOrg adds the organization with admin as its first member.
	CreateOrg(ctx context.Context, o *Org, admin Member) error
	Org(ctx context.Context, id string) (*Org, error)
	// Orgs returns a page of the organizations userID is a member of.
	Orgs(ctx context.Context, userID string, q ListQuery) ([]*Org, int, error)
	// DeleteOrg removes the organization, its members, its invitations
	// and the recent-item entries that name it.
	DeleteOrg(ctx context.Context, id string) error
	// Members lists the organization's members, oldest first.
	Members(ctx context.Context, orgID string) ([]Member, error)
	// MembersOf lists the members of each of the organizations at once,
	// keyed by organization id, each oldest first (a page of a list needs
	// them all); an organization with no row is missing from the map.
	MembersOf(ctx context.Context, orgIDs []string) (map[string][]Member, error)
	// MemberRole returns userID's role in orgID; NotFound when not a member.
	MemberRole(ctx context.Context, orgID, userID string) (Role, error)
	// AddMember adds a member; ErrConflict when already one.
	AddMember(ctx context.Context, m Member) error
	// SetMemberRole changes a member's role and records an event for the
	// member: what they can see may have changed.
	SetMemberRole(ctx context.Context, orgID, userID string, role Role) error
	// SetResourceRoles replaces the member's per-resource roles, recording
	// an event for the member likewise.
	SetResourceRoles(ctx context.Context, orgID, userID string, roles []ResourceRole) error
	// MemberAccess returns userID's role in orgID and their role on the
	// resource (Role "" when they have none for it); NotFound when not a
	// member. One read, for the access check of every resource action.
	MemberAccess(ctx context.Context, orgID, userID, resourceID string) (role, resourceRole Role, err error)
	// OrgSummaries counts what each organization owns and its members and
	// pending invitations, keyed by organization id.
	OrgSummaries(ctx context.Context, orgIDs []string) (map[string]OrgSummary, error)
	// OwnerCounts counts what a user or organization owns directly.
	OwnerCounts(ctx context.Context, ownerType, ownerID string) (OwnerCounts, error)
	// CountOrgs counts the organizations userID is a member of.
	CountOrgs(ctx context.Context, userID string) (int, error)
	RemoveMember(ctx context.Context, orgID, userID string) error
	// SoleAdminOrgs lists the organizations whose only admin is userID.
	SoleAdminOrgs(ctx context.Context, userID string) ([]*Org, error)

	CreateInvite(ctx context.Context, i *Invite) error
	// Invite returns any invitation, answered or not.
	Invite(ctx context.Context, id string) (*Invite, error)
	// PendingInvites lists the unanswered invitations of an organization
	// (orgID set) or to an email address (email set), oldest first.
	PendingInvites(ctx context.Context, orgID, email string) ([]*Invite, error)
	// AnswerInvite records the answer if the invitation is still pending,
	// and reports whether it was: of two answers at once, one wins.
	AnswerInvite(ctx context.Context, id, answer string) (bool, error)
	DeleteInvite(ctx context.Context, id string) error

	ResourceStore
}
