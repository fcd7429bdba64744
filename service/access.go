package service

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/accountd/accountd"
)

// op is a kind of thing a caller may do to an organization or to what it
// owns. What each role allows is decided here and nowhere else:
//
//	view:        read
//	collaborate: read; create resources, and create and delete devices and flows
//	edit:        all that, and delete applications and dashboards
//	admin:       all that, and manage members and invitations, delete the organization
//	none:        nothing but see the organization and its members
//
// On one application or dashboard of the organization, a member who is not
// an admin may hold a role of its own (collaborate, view or none, from the
// member's applicationRoles and dashboardRoles), which replaces their
// organization role there: a "none" member with "view" on one application
// sees that one, a "view" member with "none" on it does not. Lists, counts
// and recent items follow the same rule in the store's visibility filter
// (sqlstore visibleTo). Any member may read the organization itself.
//
// A user has every right over what they own themselves.
type op int

const (
	opRead op = iota
	opWrite
	opDelete
	opAdmin
)

func (o op) String() string {
	return [...]string{"read", "create or change resources", "delete resources", "administer the organization"}[o]
}

func roleAllows(r accountd.Role, o op) bool {
	switch r {
	case accountd.RoleAdmin:
		return true
	case accountd.RoleEdit:
		return o <= opDelete
	case accountd.RoleCollaborate:
		return o <= opWrite
	case accountd.RoleView:
		return o == opRead
	}
	return false
}

// resourceRole is the role a member with orgRole holds on one resource
// for which they hold resourceRole ("" when none is set).
func resourceRole(orgRole, resourceRole accountd.Role) accountd.Role {
	if orgRole == accountd.RoleAdmin || resourceRole == "" {
		return orgRole
	}
	return resourceRole
}

// orgFor returns the organization if the caller is a member whose role
// allows o (any member may read it). Organizations the caller is not a
// member of are "not found", so that their ids reveal nothing.
func (s *Service) orgFor(ctx context.Context, st accountd.Store, p accountd.Principal, orgID string, o op) (*accountd.Org, accountd.Role, error) {
	role, err := st.MemberRole(ctx, orgID, p.UserID)
	if errors.Is(err, accountd.ErrNotFound) {
		return nil, "", accountd.NotFound("organization")
	}
	if err != nil {
		return nil, "", err
	}
	org, err := st.Org(ctx, orgID)
	if err != nil {
		return nil, "", err
	}
	if o != opRead && !roleAllows(role, o) {
		return nil, "", accountd.Errorf(accountd.CodeForbidden,
			"your role in organization %q (%s) does not allow you to %s", org.Name, role, o)
	}
	return org, role, nil
}

// ownerAllows checks the caller's right o over the resource (kind, id)
// owned by ownerType/ownerID, answering notFound when the caller cannot
// see it.
func (s *Service) ownerAllows(ctx context.Context, p accountd.Principal, ownerType, ownerID, kind, id string, o op, notFound error) error {
	if ownerType == accountd.OwnerUser {
		if ownerID != p.UserID {
			return notFound
		}
		return nil
	}
	orgRole, resRole, err := s.store.MemberAccess(ctx, ownerID, p.UserID, id)
	if errors.Is(err, accountd.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	role := resourceRole(orgRole, resRole)
	switch {
	case !roleAllows(role, opRead):
		return notFound
	case roleAllows(role, o):
		return nil
	}
	org, err := s.store.Org(ctx, ownerID)
	if err != nil {
		return err
	}
	if resRole != "" && orgRole != accountd.RoleAdmin {
		return accountd.Errorf(accountd.CodeForbidden,
			"your role on this %s of organization %q (%s) does not allow you to %s", kind, org.Name, role, o)
	}
	return accountd.Errorf(accountd.CodeForbidden,
		"your role in organization %q (%s) does not allow you to %s", org.Name, role, o)
}

func (s *Service) appFor(ctx context.Context, p accountd.Principal, id string, o op) (*accountd.Application, error) {
	if !accountd.ValidID(id) {
		return nil, accountd.Invalid("applicationId", "must be 24 hex characters")
	}
	a, err := s.store.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.ownerAllows(ctx, p, a.OwnerType, a.OwnerID, accountd.KindApplication, a.ID, o, accountd.NotFound("application")); err != nil {
		return nil, err
	}
	return a, nil
}

func (s *Service) dashFor(ctx context.Context, p accountd.Principal, id string, o op) (*accountd.Dashboard, error) {
	if !accountd.ValidID(id) {
		return nil, accountd.Invalid("dashboardId", "must be 24 hex characters")
	}
	d, err := s.store.Dashboard(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.ownerAllows(ctx, p, d.OwnerType, d.OwnerID, accountd.KindDashboard, d.ID, o, accountd.NotFound("dashboard")); err != nil {
		return nil, err
	}
	return d, nil
}

// twoFactorOn reports whether the user has two-factor auth enabled.
func (s *Service) twoFactorOn(ctx context.Context, st accountd.Store, userID string) (bool, error) {
	tf, err := st.TwoFactor(ctx, userID)
	if err != nil {
		return false, err
	}
	return tf.Enabled(), nil
}

// checkResourceRoles checks per-resource roles for members of org: known
// roles, each resource an application or dashboard (by kind) the
// organization owns, named once. field names the list ("applicationRoles").
func (s *Service) checkResourceRoles(ctx context.Context, st accountd.Store, org *accountd.Org, field string, roles []accountd.ResourceRole) error {
	seen := map[string]bool{}
	for i, r := range roles {
		at := fmt.Sprintf("%s[%d]", field, i)
		if !slices.Contains(accountd.ResourceRoleValues, r.Role) {
			return accountd.Invalid(at+".role", "must be collaborate, view or none")
		}
		if !accountd.ValidID(r.ResourceID) {
			return accountd.Invalid(at+".resourceId", "must be 24 hex characters")
		}
		if seen[r.ResourceID] {
			return accountd.Invalid(at+".resourceId", "names %s a second time", r.ResourceID)
		}
		seen[r.ResourceID] = true
		owned, err := s.orgOwns(ctx, st, org.ID, r.Kind, r.ResourceID)
		if err != nil {
			return err
		}
		if !owned {
			return accountd.Invalid(at+".resourceId", "%s is not one of the %ss of organization %q", r.ResourceID, r.Kind, org.Name)
		}
	}
	return nil
}

// orgOwns reports whether the organization owns the application or
// dashboard (kind) id.
func (s *Service) orgOwns(ctx context.Context, st accountd.Store, orgID, kind, id string) (bool, error) {
	var (
		o   accountd.Owned
		err error
	)
	if kind == accountd.KindApplication {
		var a *accountd.Application
		if a, err = st.Application(ctx, id); err == nil {
			o = a.Owned
		}
	} else {
		var d *accountd.Dashboard
		if d, err = st.Dashboard(ctx, id); err == nil {
			o = d.Owned
		}
	}
	if errors.Is(err, accountd.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return o.OwnerType == accountd.OwnerOrg && o.OwnerID == orgID, nil
}
