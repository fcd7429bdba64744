package service

import (
	"context"
	"errors"

	"github.com/accountd/accountd"
)

// op is a kind of thing a caller may do to an organization or to what it
// owns. What each role allows is decided here and nowhere else:
//
//	view:        read
//	collaborate: read; create resources, and create and delete devices and flows
//	edit:        all that, and delete applications and dashboards
//	admin:       all that, and manage members and invitations, delete the organization
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

// orgFor returns the organization if the caller is a member whose role
// allows o. Organizations the caller is not a member of are "not found",
// so that their ids reveal nothing.
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
	if !roleAllows(role, o) {
		return nil, "", accountd.Errorf(accountd.CodeForbidden,
			"your role in organization %q (%s) does not allow you to %s", org.Name, role, o)
	}
	return org, role, nil
}

// ownerAllows checks the caller's right o over something owned by
// ownerType/ownerID, answering notFound when the caller cannot see it.
func (s *Service) ownerAllows(ctx context.Context, p accountd.Principal, ownerType, ownerID string, o op, notFound error) error {
	if ownerType == accountd.OwnerUser {
		if ownerID != p.UserID {
			return notFound
		}
		return nil
	}
	_, _, err := s.orgFor(ctx, s.store, p, ownerID, o)
	if errors.Is(err, accountd.ErrNotFound) {
		return notFound
	}
	return err
}

func (s *Service) appFor(ctx context.Context, p accountd.Principal, id string, o op) (*accountd.Application, error) {
	if !accountd.ValidID(id) {
		return nil, accountd.Invalid("applicationId", "must be 24 hex characters")
	}
	a, err := s.store.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.ownerAllows(ctx, p, a.OwnerType, a.OwnerID, o, accountd.NotFound("application")); err != nil {
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
	if err := s.ownerAllows(ctx, p, d.OwnerType, d.OwnerID, o, accountd.NotFound("dashboard")); err != nil {
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
