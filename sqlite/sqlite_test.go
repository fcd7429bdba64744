package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/sqlite"
	"github.com/accountd/accountd/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) accountd.Store {
		t.Helper()
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "accountd.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return st
	})
}

// TestReopen checks that opening a migrated file again, as every restart
// does, neither fails nor loses data.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accountd.db")
	now := time.Now()
	u := &accountd.User{ID: accountd.NewID(now), Email: "a@example.com", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := st.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	st, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer st.Close()
	if _, err := st.User(t.Context(), u.ID); err != nil {
		t.Errorf("User after reopening: %v", err)
	}
}
