package sqlite_test

import (
	"os"
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

// TestSharedUsage appends and folds device-state counts through two
// stores on one file at once, as two processes would.
func TestSharedUsage(t *testing.T) {
	t.Parallel()
	storetest.RunSharedUsage(t, func(t *testing.T) (accountd.Store, accountd.Store) {
		path := filepath.Join(t.TempDir(), "accountd.db")
		var stores [2]accountd.Store
		for i := range stores {
			st, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			stores[i] = st
		}
		return stores[0], stores[1]
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

// TestFilesArePrivate checks that the database and the -wal and -shm files
// SQLite makes beside it are readable by their owner only, like the key
// file, and so is a backup.
func TestFilesArePrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "accountd.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer st.Close()
	now := time.Now()
	u := &accountd.User{ID: accountd.NewID(now), Email: "p@example.com", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	backup := filepath.Join(dir, "copy.db")
	if err := sqlite.Backup(t.Context(), path, backup); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", backup} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), got)
		}
	}
	cp, err := sqlite.Open(t.Context(), backup)
	if err != nil {
		t.Fatalf("opening the backup: %v", err)
	}
	defer cp.Close()
	if _, err := cp.User(t.Context(), u.ID); err != nil {
		t.Errorf("the backup lacks the user: %v", err)
	}
	if err := sqlite.Backup(t.Context(), path, backup); err == nil {
		t.Error("Backup over an existing file succeeded")
	}
}
