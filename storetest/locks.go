package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

var lockTests = []struct {
	name string
	fn   func(t *testing.T, st accountd.Store)
}{
	{"OwnerMustExist", testOwnerMustExist},
	{"DeleteOwnerWhileCreating", testDeleteOwnerWhileCreating},
}

func testOwnerMustExist(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	ghost := accountd.NewID(base)
	a := &accountd.Application{Owned: owned("application", accountd.OwnerUser, ghost, "orphan")}
	if err := st.CreateApplication(ctx, a); !errors.Is(err, accountd.ErrNotFound) {
		t.Errorf("CreateApplication for a missing user = %v, want NotFound", err)
	}
	d := &accountd.Dashboard{Owned: owned("dashboard", accountd.OwnerOrg, ghost, "orphan")}
	if err := st.CreateDashboard(ctx, d); !errors.Is(err, accountd.ErrNotFound) {
		t.Errorf("CreateDashboard for a missing organization = %v, want NotFound", err)
	}
	if err := st.LockOwner(ctx, accountd.OwnerUser, ghost); !errors.Is(err, accountd.ErrNotFound) {
		t.Errorf("LockOwner of a missing user = %v, want NotFound", err)
	}
	u := createUser(t, st, fullUser("lock@example.com"))
	if err := st.LockOwner(ctx, accountd.OwnerUser, u.ID); err != nil {
		t.Errorf("LockOwner: %v", err)
	}
}

// testDeleteOwnerWhileCreating deletes a user while another transaction
// creates an application for them: the creation must wait for the deletion
// and then fail, never leave an application without an owner.
func testDeleteOwnerWhileCreating(t *testing.T, st accountd.Store) {
	ctx := t.Context()
	u := createUser(t, st, fullUser("doomed@example.com"))
	locked := make(chan struct{})
	created := make(chan error, 1)
	err := st.InTx(ctx, func(tx accountd.Store) error {
		if err := tx.LockOwner(ctx, accountd.OwnerUser, u.ID); err != nil {
			return err
		}
		close(locked)
		go func() {
			a := &accountd.Application{Owned: owned("application", accountd.OwnerUser, u.ID, "late")}
			created <- st.CreateApplication(ctx, a)
		}()
		// give the creation time to reach the lock and wait on it
		time.Sleep(200 * time.Millisecond)
		select {
		case err := <-created:
			t.Errorf("CreateApplication finished (%v) while the owner was locked for deletion", err)
			created <- err // for the check below
		default:
		}
		return tx.DeleteUser(ctx, u.ID)
	})
	<-locked
	if err != nil {
		t.Fatalf("deleting in a transaction: %v", err)
	}
	if err := <-created; !errors.Is(err, accountd.ErrNotFound) {
		t.Errorf("CreateApplication after its owner was deleted = %v, want NotFound", err)
	}
	if apps, dashes, err := st.CountOwned(ctx, accountd.OwnerUser, u.ID); err != nil || apps+dashes != 0 {
		t.Errorf("CountOwned of the deleted user = %d, %d, %v; want nothing", apps, dashes, err)
	}
}
