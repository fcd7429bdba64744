package service

import (
	"context"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/lru"
)

// A device state (device.sendState) is taken only from a caller who may
// write to the application, for a device of that application: two reads
// (the application with its owner, then the device), three for an
// organization's application (the caller's access to it). States are the
// most frequent write there is, and those reads were most of what a state
// cost PostgreSQL, so each instance keeps what they decided in the targets
// cache, one entry per application, device and caller, bounded by bytes
// like every other cache (CacheBudget.Devices; auth.go):
//
//   - Where entries come from: a state whose checks pass keeps the
//     application's owner under (application, device, caller). Only a yes
//     is kept; a refusal is read again every time.
//   - What invalidates them: what the checks read changes only with an
//     event naming the owner or the caller. Deleting a device or an
//     application writes an event of its owner, moving an application one
//     of each owner, deleting an organization one of it; adding or
//     removing a member, changing their role or resource roles and
//     deleting a user one of the user. forget drops every entry whose
//     owner or caller an event names: on every instance within a second
//     (the event poll), and at once on the instance where the caller made
//     a change themselves (ForgetMe, before any write but a state
//     answers). It scans the cache (forgetTargets); such events are rare
//     next to states.
//     Loads that raced a drop are not kept (lru.Cache's generation).
//
// So a state for a device deleted, or by a member removed, through
// another instance may still be counted there for up to a second: the
// bound every cached decision here keeps (FreshnessBound).

// targetKey packs (application, device, caller) ids.
type targetKey struct{ app, device, user packedID }

// targetEntrySize is what an entry holds beyond the cache's own slot: the
// owner's type and id strings share their bytes with every other entry of
// that owner (internID); counted in full anyway.
const targetEntrySize = 48

func newTargetCache(budget int64) *lru.Cache[targetKey, accountd.OwnerRef] {
	return lru.New[targetKey, accountd.OwnerRef](budget)
}

// stateTarget checks that p may send a state for the device of the
// application, and returns the application's owner, whom it is counted
// for, and its id as stored.
func (s *Service) stateTarget(ctx context.Context, p accountd.Principal, appID, deviceID string) (accountd.OwnerRef, string, error) {
	k, keep := packTarget(appID, deviceID, p.UserID)
	if keep { // then appID is as stored: packID takes only canonical ids
		if o, ok := s.targets.Get(k, time.Time{}); ok {
			return o, appID, nil
		}
	}
	gen := s.targets.Generation()
	a, err := s.appFor(ctx, p, appID, opWrite)
	if err != nil {
		return accountd.OwnerRef{}, "", err
	}
	if !accountd.ValidID(deviceID) {
		return accountd.OwnerRef{}, "", accountd.Invalid("deviceId", "must be 24 hex characters")
	}
	if _, err := s.store.Device(ctx, a.ID, deviceID); err != nil {
		return accountd.OwnerRef{}, "", err
	}
	o := accountd.OwnerRef{Type: canonicalOwnerType(a.OwnerType), ID: internID(a.OwnerID)}
	if keep {
		s.targets.Put(k, o, targetEntrySize, time.Time{}, gen)
	}
	return o, a.ID, nil
}

func packTarget(appID, deviceID, userID string) (targetKey, bool) {
	a, ok1 := packID(appID)
	d, ok2 := packID(deviceID)
	u, ok3 := packID(userID)
	return targetKey{app: a, device: d, user: u}, ok1 && ok2 && ok3
}

func canonicalOwnerType(t string) string {
	switch t {
	case accountd.OwnerUser:
		return accountd.OwnerUser
	case accountd.OwnerOrg:
		return accountd.OwnerOrg
	}
	return t
}

// forgetTargets drops the entries whose owner or caller is one of users,
// or whose owner is one of orgs. The scan holds the cache's lock, about 30
// ns an entry (0.4 ms for the 12,000 entries of the default budget,
// measured on two cores).
func (s *Service) forgetTargets(users, orgs []string) {
	if len(users) == 0 && len(orgs) == 0 {
		return
	}
	owners := make(map[accountd.OwnerRef]bool, len(users)+len(orgs))
	callers := make(map[packedID]bool, len(users))
	for _, u := range users {
		owners[accountd.OwnerRef{Type: accountd.OwnerUser, ID: u}] = true
		if p, ok := packID(u); ok {
			callers[p] = true
		}
	}
	for _, o := range orgs {
		owners[accountd.OwnerRef{Type: accountd.OwnerOrg, ID: o}] = true
	}
	s.targets.DeleteFunc(func(k targetKey, o accountd.OwnerRef) bool { return owners[o] || callers[k.user] })
}
