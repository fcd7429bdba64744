package service

import (
	"context"
	"errors"

	"github.com/accountd/accountd"
)

// Limits caps how many of each thing one owner may have; 0 is no limit.
// The operator sets them (accountd serve --limit-*), the same for every
// user and for every organization. Applications, dashboards and devices
// count what the owner owns directly (a user's own, not their
// organizations'); Organizations counts the organizations a user belongs
// to; APITokens a user's API tokens.
type Limits struct {
	Applications, Dashboards, Devices, Organizations, APITokens int
}

// LimitsConfig holds the limits of every user and of every organization
// (whose Organizations and APITokens do not apply).
type LimitsConfig struct {
	User, Org Limits
}

func (l Limits) check(who string) error {
	for _, n := range []int{l.Applications, l.Dashboards, l.Devices, l.Organizations, l.APITokens} {
		if n < 0 {
			return errors.New("service: limits of " + who + " must be 0 (none) or more")
		}
	}
	return nil
}

// Limit names, as the limits objects of me.json and org.json name them,
// and the words of the message that says one was reached.
var limitWords = map[string]string{
	accountd.KindApplication:  "applications",
	accountd.KindDashboard:    "dashboards",
	accountd.KindDevice:       "devices",
	accountd.KindOrganization: "organizations",
	"apitoken":                "API tokens",
}

func (l Limits) of(kind string) int {
	switch kind {
	case accountd.KindApplication:
		return l.Applications
	case accountd.KindDashboard:
		return l.Dashboards
	case accountd.KindDevice:
		return l.Devices
	case accountd.KindOrganization:
		return l.Organizations
	case "apitoken":
		return l.APITokens
	}
	return 0
}

// Map lists the limits that are set, by the reference's names (limits in
// me.json and org.json): application, dashboard, device and, for users,
// apitoken. The limit on organizations has no name there and is not listed.
func (l Limits) Map() map[string]int {
	out := map[string]int{}
	for _, k := range []string{accountd.KindApplication, accountd.KindDashboard, accountd.KindDevice, "apitoken"} {
		if n := l.of(k); n > 0 {
			out[k] = n
		}
	}
	return out
}

// UserLimits are the limits of every user.
func (s *Service) UserLimits() Limits { return s.limits.User }

func (s *Service) limitsOf(ownerType string) Limits {
	if ownerType == accountd.OwnerOrg {
		return s.limits.Org
	}
	return s.limits.User
}

// limitReached is the error of a creation past a limit.
func limitReached(kind, ownerType string, limit int) error {
	who := "your account"
	if ownerType == accountd.OwnerOrg {
		who = "the organization"
	}
	return accountd.Errorf(accountd.CodeInvalid, "%s limit of %d reached: %s has %d %s already",
		limitWords[kind], limit, who, limit, limitWords[kind])
}

// createWithin runs create, which adds one kind (application, dashboard or
// device) to the owner, under the owner's limit. With a limit, the owner's
// row is held for update while counting and creating, so that creations at
// once are counted one after the other and never pass the limit together.
func (s *Service) createWithin(ctx context.Context, ownerType, ownerID, kind string, create func(st accountd.Store) error) error {
	limit := s.limitsOf(ownerType).of(kind)
	if limit == 0 {
		return create(s.store)
	}
	return s.store.InTx(ctx, func(tx accountd.Store) error {
		if err := tx.LockOwner(ctx, ownerType, ownerID); err != nil {
			return err
		}
		c, err := tx.OwnerCounts(ctx, ownerType, ownerID)
		if err != nil {
			return err
		}
		n := map[string]int{accountd.KindApplication: c.Apps, accountd.KindDashboard: c.Dashboards, accountd.KindDevice: c.Devices}[kind]
		if n >= limit {
			return limitReached(kind, ownerType, limit)
		}
		return create(tx)
	})
}

// heldWithin refuses, after a transfer in tx, a destination that now holds
// more applications, dashboards or devices than its limits allow: the
// transfer is undone with the transaction. The destination's row is held
// for update first, so that creations meanwhile count after the transfer.
func (s *Service) heldWithin(ctx context.Context, tx accountd.Store, ownerType, ownerID string) error {
	l := s.limitsOf(ownerType)
	if l.Applications == 0 && l.Dashboards == 0 && l.Devices == 0 {
		return nil
	}
	if err := tx.LockOwner(ctx, ownerType, ownerID); err != nil {
		return err
	}
	c, err := tx.OwnerCounts(ctx, ownerType, ownerID)
	if err != nil {
		return err
	}
	for _, k := range []struct {
		kind string
		n    int
	}{{accountd.KindApplication, c.Apps}, {accountd.KindDashboard, c.Dashboards}, {accountd.KindDevice, c.Devices}} {
		if limit := l.of(k.kind); limit > 0 && k.n > limit {
			who := "the user"
			if ownerType == accountd.OwnerOrg {
				who = "the organization"
			}
			return accountd.Invalid("destinationId", "%s limit of %d reached: %s would have %d %s; nothing was transferred",
				limitWords[k.kind], limit, who, k.n, limitWords[k.kind])
		}
	}
	return nil
}

// orgsWithin refuses a user one more organization past their limit. It
// runs in tx, which holds the user's row (LockOwner) until it ends.
func (s *Service) orgsWithin(ctx context.Context, tx accountd.Store, userID string) error {
	limit := s.limits.User.Organizations
	if limit == 0 {
		return nil
	}
	if err := tx.LockOwner(ctx, accountd.OwnerUser, userID); err != nil {
		return err
	}
	n, err := tx.CountOrgs(ctx, userID)
	if err != nil {
		return err
	}
	if n >= limit {
		return limitReached(accountd.KindOrganization, accountd.OwnerUser, limit)
	}
	return nil
}

// tokensWithin refuses a user one more API token past their limit; tx
// holds the user's row.
func (s *Service) tokensWithin(ctx context.Context, tx accountd.Store, t *accountd.Token) error {
	limit := s.limits.User.APITokens
	if limit == 0 || t.Kind != accountd.KindAPI {
		return nil
	}
	n, err := tx.CountTokens(ctx, t.UserID, accountd.KindAPI)
	if err != nil {
		return err
	}
	if n >= limit {
		return limitReached("apitoken", accountd.OwnerUser, limit)
	}
	return nil
}
