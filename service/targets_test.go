package service

import (
	"testing"
	"time"

	"github.com/accountd/accountd"
)

// TestForgetTargets: an event drops exactly the entries whose owner or
// caller it names, whether it names few or many, and a load that raced it
// is not kept.
func TestForgetTargets(t *testing.T) {
	now := accountd.Millis(time.Now())
	id := func() string { return accountd.NewID(now) }
	alice, bob, carol, org := id(), id(), id(), id()
	type entry struct {
		k targetKey
		o accountd.OwnerRef
	}
	put := func(s *Service, app, caller string, owner accountd.OwnerRef) entry {
		k, ok := packTarget(app, id(), caller)
		if !ok {
			t.Fatal("ids do not pack")
		}
		s.targets.Put(k, owner, targetEntrySize, time.Time{}, s.targets.Generation())
		return entry{k, owner}
	}
	for _, padding := range []int{0, 20} { // few names, then many
		s := &Service{targets: newTargetCache(1 << 20)}
		aliceOwn := put(s, id(), alice, accountd.OwnerRef{Type: accountd.OwnerUser, ID: alice})
		bobOwn := put(s, id(), bob, accountd.OwnerRef{Type: accountd.OwnerUser, ID: bob})
		bobInOrg := put(s, id(), bob, accountd.OwnerRef{Type: accountd.OwnerOrg, ID: org})
		carolInOrg := put(s, id(), carol, accountd.OwnerRef{Type: accountd.OwnerOrg, ID: org})
		users := []string{alice}
		for range padding {
			users = append(users, id())
		}
		gen := s.targets.Generation()
		s.forgetTargets(users, nil)
		has := func(e entry) bool { _, ok := s.targets.Get(e.k, time.Time{}); return ok }
		if has(aliceOwn) || !has(bobOwn) || !has(bobInOrg) || !has(carolInOrg) {
			t.Fatalf("padding %d: a user event for alice left %v %v %v %v", padding, has(aliceOwn), has(bobOwn), has(bobInOrg), has(carolInOrg))
		}
		// bob as a member (caller) goes everywhere; carol's stays
		s.forgetTargets(append(users[1:], bob), nil)
		if has(bobOwn) || has(bobInOrg) || !has(carolInOrg) {
			t.Fatalf("padding %d: a user event for bob left %v %v %v", padding, has(bobOwn), has(bobInOrg), has(carolInOrg))
		}
		orgs := []string{org}
		for range padding {
			orgs = append(orgs, id())
		}
		s.forgetTargets(nil, orgs)
		if has(carolInOrg) {
			t.Fatalf("padding %d: an organization event left its application's entry", padding)
		}
		// a load that started before the events is not kept
		k, _ := packTarget(id(), id(), carol)
		s.targets.Put(k, accountd.OwnerRef{Type: accountd.OwnerUser, ID: carol}, targetEntrySize, time.Time{}, gen)
		if _, ok := s.targets.Get(k, time.Time{}); ok {
			t.Fatalf("padding %d: a load that raced an event was kept", padding)
		}
	}
}
