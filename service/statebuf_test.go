package service

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/sqlite"
)

// failingStore fails RecordUsage a number of times, then passes it on.
type failingStore struct {
	accountd.Store
	failures int
}

func (f *failingStore) RecordUsage(ctx context.Context, recs []accountd.UsageRecord, at time.Time) (int, error) {
	if f.failures > 0 {
		f.failures--
		return 0, errors.New("database away")
	}
	return f.Store.RecordUsage(ctx, recs, at)
}

// TestStateFlushKeepsCountsOnFailure checks that a failed write of device
// state counts loses nothing: the next flush writes them with what came
// meanwhile.
func TestStateFlushKeepsCountsOnFailure(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 6, 1, 12, 30, 0, 0, time.UTC)
	s := &Service{store: &failingStore{Store: st, failures: 1}, states: newStateBuffer(),
		now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler)}
	owner := accountd.OwnerRef{Type: accountd.OwnerUser, ID: accountd.NewID(now)}
	k := stateKey{owner: owner, app: accountd.NewID(now), hour: accountd.Hour(now)}

	s.states.add(k, 3, 30)
	if err := s.flushStates(ctx); err == nil {
		t.Fatal("the first flush should have failed")
	}
	s.states.add(k, 1, 10)
	if err := s.flushStates(ctx); err != nil {
		t.Fatal(err)
	}
	totals, err := st.PayloadTotals(ctx, owner, now, now)
	if err != nil {
		t.Fatal(err)
	}
	want := accountd.PayloadTotal{Type: "deviceState", Source: "rest", Count: 4, Bytes: 40}
	if len(totals) != 1 || totals[0] != want {
		t.Errorf("after a failed and a good flush the store holds %+v, want %+v", totals, want)
	}
	if err := s.flushStates(ctx); err != nil || s.states.take() != nil {
		t.Errorf("an empty buffer should flush to nothing: %v", err)
	}
}
