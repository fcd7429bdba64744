package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

// RecentItemsKept is how many recent items of each list are kept: per user
// and item type, and per application for devices and flows.
const RecentItemsKept = 20

func checkRecent(itemType, parentID string) error {
	if !slices.Contains(accountd.ItemTypes, itemType) {
		return accountd.Invalid("itemType", "must be one of %s", strings.Join(accountd.ItemTypes, ", "))
	}
	child := itemType == accountd.KindDevice || itemType == accountd.KindFlow
	switch {
	case child && parentID == "":
		return accountd.Invalid("parentId", "is required for %s items: it names their application", itemType)
	case !child && parentID != "":
		return accountd.Invalid("parentId", "is only for device and flow items")
	case parentID != "" && !accountd.ValidID(parentID):
		return accountd.Invalid("parentId", "must be 24 hex characters")
	}
	return nil
}

// AddRecentItem puts an item the caller can see first in its recent list
// and returns the list.
func (s *Service) AddRecentItem(ctx context.Context, p accountd.Principal, r accountd.RecentItem) ([]accountd.NamedItem, error) {
	if err := checkRecent(r.ItemType, r.ParentID); err != nil {
		return nil, err
	}
	if !accountd.ValidID(r.ItemID) {
		return nil, accountd.Invalid("itemId", "must be 24 hex characters")
	}
	var err error
	switch r.ItemType {
	case accountd.KindApplication:
		_, err = s.appFor(ctx, p, r.ItemID, opRead)
	case accountd.KindDashboard:
		_, err = s.dashFor(ctx, p, r.ItemID, opRead)
	case accountd.KindOrganization:
		_, _, err = s.orgFor(ctx, s.store, p, r.ItemID, opRead)
	case accountd.KindDevice:
		_, err = s.Device(ctx, p, r.ParentID, r.ItemID)
	case accountd.KindFlow:
		_, err = s.Flow(ctx, p, r.ParentID, r.ItemID)
	}
	if err != nil {
		return nil, err
	}
	r.UserID = p.UserID
	if err := s.store.AddRecentItem(ctx, r, RecentItemsKept); err != nil {
		return nil, err
	}
	return s.store.RecentItems(ctx, p.UserID, r.ItemType, r.ParentID)
}

// RecentItems lists the caller's recent items of a type, most recent
// first, named as they are now; what they can no longer see drops out.
func (s *Service) RecentItems(ctx context.Context, p accountd.Principal, itemType, parentID string) ([]accountd.NamedItem, error) {
	if err := checkRecent(itemType, parentID); err != nil {
		return nil, err
	}
	return s.store.RecentItems(ctx, p.UserID, itemType, parentID)
}

// Transfer is what PATCH /me/transferResources carries.
type Transfer struct {
	DestinationID   string
	DestinationType string // user or organization
	ApplicationIDs  []string
	DashboardIDs    []string
	Strict          bool
}

// NotMoved lists what a non-strict transfer left where it was.
type NotMoved struct {
	ApplicationIDs []string
	DashboardIDs   []string
}

// TransferResources gives applications and dashboards the caller owns to
// another user or to an organization where the caller may add resources
// and was not invited with disallowTransfer, in one transaction. Ids that cannot move (unknown, or not the caller's
// own) fail the whole transfer when Strict, and are reported otherwise.
func (s *Service) TransferResources(ctx context.Context, p accountd.Principal, t Transfer) (NotMoved, error) {
	if !accountd.ValidID(t.DestinationID) {
		return NotMoved{}, accountd.Invalid("destinationId", "must be 24 hex characters")
	}
	now := accountd.Millis(s.now())
	var (
		out NotMoved
		ann announcements
	)
	err := s.store.InTx(ctx, func(tx accountd.Store) error {
		ann = nil
		switch t.DestinationType {
		case accountd.OwnerUser:
			if t.DestinationID == p.UserID {
				return accountd.Invalid("destinationId", "is you: the resources are yours already")
			}
			if _, err := tx.User(ctx, t.DestinationID); err != nil {
				if accountd.ErrorCode(err) == accountd.CodeNotFound {
					return accountd.Invalid("destinationId", "names no user")
				}
				return err
			}
		case accountd.OwnerOrg:
			org, _, err := s.orgFor(ctx, tx, p, t.DestinationID, opWrite)
			if err != nil {
				switch accountd.ErrorCode(err) {
				case accountd.CodeNotFound:
					return accountd.Invalid("destinationId", "is not an organization you are a member of")
				case accountd.CodeForbidden:
					var e *accountd.Error
					errors.As(err, &e)
					return accountd.Invalid("destinationId", "%s", e.Message)
				}
				return err
			}
			if err := s.transferAllowed(ctx, tx, p, org); err != nil {
				return err
			}
		default:
			return accountd.Invalid("destinationType", "must be user or organization")
		}
		var err error
		if out.ApplicationIDs, err = s.move(ctx, tx, p, t, accountd.KindApplication, "applicationIds", t.ApplicationIDs, now); err != nil {
			return err
		}
		if out.DashboardIDs, err = s.move(ctx, tx, p, t, accountd.KindDashboard, "dashboardIds", t.DashboardIDs, now); err != nil {
			return err
		}
		if err := s.heldWithin(ctx, tx, t.DestinationType, t.DestinationID); err != nil {
			return err
		}
		return ann.record(ctx, s, tx, SecurityEntry{UserID: p.UserID, Kind: accountd.SecResourcesMoved,
			ObjectType: t.DestinationType, ObjectID: t.DestinationID, Detail: map[string]string{
				"applications": strconv.Itoa(distinct(t.ApplicationIDs) - len(out.ApplicationIDs)),
				"dashboards":   strconv.Itoa(distinct(t.DashboardIDs) - len(out.DashboardIDs)),
			}})
	})
	if err != nil {
		return out, err
	}
	ann.run()
	return out, nil
}

// distinct counts the different ids of ids.
func distinct(ids []string) int {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	return len(seen)
}

func (s *Service) move(ctx context.Context, tx accountd.Store, p accountd.Principal, t Transfer, kind, field string, ids []string, now time.Time) ([]string, error) {
	notMoved := []string{}
	seen := map[string]bool{}
	for i, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		moved, err := tx.MoveOwned(ctx, kind, id, p.UserID, t.DestinationType, t.DestinationID, now)
		if err != nil {
			return nil, err
		}
		if moved {
			continue
		}
		if t.Strict {
			return nil, accountd.Invalid(fmt.Sprintf("%s[%d]", field, i), "%s is not an %s you own; nothing was transferred", id, kindWord(kind))
		}
		notMoved = append(notMoved, id)
	}
	return notMoved, nil
}

func kindWord(kind string) string {
	if kind == accountd.KindApplication {
		return "application"
	}
	return "dashboard"
}

// deleteUserChecked removes a user who owns nothing that would be lost:
// no applications or dashboards, and no organization where they are the
// only admin. The check and the deletion share a transaction.
func (s *Service) deleteUserChecked(ctx context.Context, userID string) error {
	// device state counts still in memory are written first, so that the
	// deletion drops them with the rest of the account's usage
	if err := s.flushStates(ctx); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx accountd.Store) error {
		// held until the deletion commits: a resource created meanwhile
		// waits, then finds no owner, rather than being orphaned
		if err := tx.LockOwner(ctx, accountd.OwnerUser, userID); err != nil {
			return err
		}
		apps, dashes, err := tx.CountOwned(ctx, accountd.OwnerUser, userID)
		if err != nil {
			return err
		}
		if apps+dashes > 0 {
			return accountd.Errorf(accountd.CodeInvalid,
				"the account still owns %s and %s: transfer them (PATCH /me/transferResources) or delete them first",
				count(apps, "application"), count(dashes, "dashboard"))
		}
		orgs, err := tx.SoleAdminOrgs(ctx, userID)
		if err != nil {
			return err
		}
		if len(orgs) > 0 {
			names := make([]string, len(orgs))
			for i, o := range orgs {
				names[i] = fmt.Sprintf("%q", o.Name)
			}
			return accountd.Errorf(accountd.CodeInvalid,
				"the account is the only admin of organization %s: make another member admin or delete the organization first",
				strings.Join(names, ", "))
		}
		return tx.DeleteUser(ctx, userID)
	})
}

// transferAllowed refuses a transfer into org by a member whose invitation
// said disallowTransfer. (Only what a user owns moves, so nothing leaves an
// organization by a transfer.)
func (s *Service) transferAllowed(ctx context.Context, tx accountd.Store, p accountd.Principal, org *accountd.Org) error {
	members, err := tx.Members(ctx, org.ID)
	if err != nil {
		return err
	}
	if m, ok := findMember(members, p.UserID); ok && m.DisallowTransfer {
		return accountd.Invalid("destinationId", "you may not transfer resources into organization %q (disallowTransfer)", org.Name)
	}
	return nil
}
