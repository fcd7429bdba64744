package postgres_test

import (
	"sync"
	"testing"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/internal/pgtest"
	"github.com/accountd/accountd/postgres"
	"github.com/accountd/accountd/storetest"
)

// open opens a store on a schema of its own, which pgtest drops when the
// test ends.
func open(t *testing.T) accountd.Store {
	t.Helper()
	return openDSN(t, pgtest.DSN(t))
}

func openDSN(t *testing.T, dsn string) accountd.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st
}

func TestStore(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.EnvVar + " is not set (a postgres:// DSN): PostgreSQL store tests skipped")
	}
	storetest.Run(t, open)
}

// TestSharedUsage appends and folds device-state counts through two
// stores on one schema at once, as two instances sharing the database do:
// folders take rows with SKIP LOCKED, and none may be counted twice.
func TestSharedUsage(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.EnvVar + " is not set (a postgres:// DSN): PostgreSQL store tests skipped")
	}
	t.Parallel()
	storetest.RunSharedUsage(t, func(t *testing.T) (accountd.Store, accountd.Store) {
		dsn := pgtest.DSN(t)
		return openDSN(t, dsn), openDSN(t, dsn)
	})
}

// TestConcurrentOpen starts several instances on one empty schema at once,
// as a fleet rolling out does: the migration lock must let exactly one
// create the schema and the others find it done.
func TestConcurrentOpen(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.EnvVar + " is not set (a postgres:// DSN): PostgreSQL store tests skipped")
	}
	dsn := pgtest.DSN(t)
	const n = 6
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			st, err := postgres.Open(t.Context(), dsn)
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	wg.Wait()
}
