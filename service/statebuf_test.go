package service

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/sqlite"
)

// gateStore passes AppendUsage on to a real store, but can hold each call
// until the test lets it go, and fail it.
type gateStore struct {
	accountd.Store
	entered chan int         // the number of records of each call, as it starts
	release chan error       // what the held call returns (nil: pass it on)
	calls   func(n int) bool // whether to hold the nth call (from 1)
	mu      sync.Mutex
	n       int
}

func (g *gateStore) AppendUsage(ctx context.Context, recs []accountd.UsageRecord) error {
	g.mu.Lock()
	g.n++
	n := g.n
	g.mu.Unlock()
	if g.calls != nil && g.calls(n) {
		g.entered <- len(recs)
		if err := <-g.release; err != nil {
			return err
		}
	}
	return g.Store.AppendUsage(ctx, recs)
}

type stateFixture struct {
	t     *testing.T
	store accountd.Store
	gate  *gateStore
	svc   *Service
	now   time.Time
	owner accountd.OwnerRef
}

func newStateFixture(t *testing.T, hold func(n int) bool) *stateFixture {
	return newStateFixtureWriters(t, 1, hold)
}

// newStateFixtureWriters is newStateFixture with writers batches in flight.
func newStateFixtureWriters(t *testing.T, writers int, hold func(n int) bool) *stateFixture {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &stateFixture{t: t, store: st, now: time.Date(2026, 6, 1, 12, 30, 0, 0, time.UTC)}
	f.gate = &gateStore{Store: st, entered: make(chan int), release: make(chan error), calls: hold}
	f.svc = &Service{store: f.gate, now: func() time.Time { return f.now }, log: slog.New(slog.DiscardHandler)}
	f.svc.states = newStateWriter(writers, f.gate.AppendUsage)
	t.Cleanup(f.svc.states.close)
	f.owner = accountd.OwnerRef{Type: accountd.OwnerUser, ID: accountd.NewID(f.now)}
	return f
}

// key is the state key of application i of the fixture's owner.
func (f *stateFixture) key(app string) stateKey {
	return stateKey{owner: f.owner, app: app, hour: accountd.Hour(f.now)}
}

// stored is what the store holds for the owner: count and bytes.
func (f *stateFixture) stored() (count, bytes int64) {
	f.t.Helper()
	totals, err := f.store.PayloadTotals(context.Background(), f.owner, f.now, f.now)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, tot := range totals {
		if tot.Type != "deviceState" || tot.Source != "rest" {
			f.t.Errorf("unexpected total %+v", tot)
		}
		count += tot.Count
		bytes += tot.Bytes
	}
	return count, bytes
}

// TestStateGroupCommit checks that states sent while a transaction runs
// are written together in the next one, and that each sender is answered
// only once its counts are in the database.
func TestStateGroupCommit(t *testing.T) {
	t.Parallel()
	f := newStateFixture(t, func(n int) bool { return n <= 2 })
	apps := []string{accountd.NewID(f.now), accountd.NewID(f.now.Add(time.Second))}
	ctx := t.Context()

	first := make(chan error, 1)
	go func() { first <- f.svc.states.add(ctx, f.key(apps[0]), 1, 10) }()
	if n := <-f.gate.entered; n != 1 {
		t.Fatalf("the first transaction writes %d records, want 1", n)
	}
	// the first transaction is held: 20 more states queue behind it
	const waiters = 20
	results := make(chan error, waiters)
	for i := range waiters {
		go func() { results <- f.svc.states.add(ctx, f.key(apps[i%2]), 2, 5) }()
	}
	for f.queued() < waiters {
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-first:
		t.Fatalf("the first state was answered (%v) before its transaction committed", err)
	case err := <-results:
		t.Fatalf("a queued state was answered (%v) before any transaction committed", err)
	default:
	}
	f.gate.release <- nil
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if c, b := f.stored(); c != 1 || b != 10 {
		t.Errorf("after the first transaction the store holds %d states (%d bytes), want 1 (10)", c, b)
	}
	// the second transaction holds all 20, summed per application
	if n := <-f.gate.entered; n != 2 {
		t.Errorf("the second transaction writes %d records, want 2 (one per application)", n)
	}
	f.gate.release <- nil
	for range waiters {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if c, b := f.stored(); c != 1+2*waiters || b != 10+5*waiters {
		t.Errorf("the store holds %d states (%d bytes), want %d (%d)", c, b, 1+2*waiters, 10+5*waiters)
	}
}

func (f *stateFixture) queued() int {
	f.svc.states.mu.Lock()
	defer f.svc.states.mu.Unlock()
	return len(f.svc.states.queue)
}

// TestStateWriteFailure checks that a failed transaction answers its error
// to every state in it and counts none of them, and that the writer goes
// on with the next.
func TestStateWriteFailure(t *testing.T) {
	t.Parallel()
	f := newStateFixture(t, func(n int) bool { return n == 1 })
	app := accountd.NewID(f.now)
	ctx := t.Context()
	results := make(chan error, 1)
	go func() { results <- f.svc.states.add(ctx, f.key(app), 3, 30) }()
	<-f.gate.entered
	f.gate.release <- errors.New("database away")
	if err := <-results; err == nil || err.Error() != "database away" {
		t.Fatalf("a state whose transaction failed got %v, want its error", err)
	}
	if err := f.svc.states.add(ctx, f.key(app), 1, 10); err != nil {
		t.Fatal(err)
	}
	if c, b := f.stored(); c != 1 || b != 10 {
		t.Errorf("the store holds %d states (%d bytes), want only the acknowledged 1 (10)", c, b)
	}
}

// TestStateWaiterLeaves checks that a sender whose context ends while its
// counts wait is answered at once, and that its counts are still written,
// once.
func TestStateWaiterLeaves(t *testing.T) {
	t.Parallel()
	f := newStateFixture(t, func(n int) bool { return n == 1 })
	app := accountd.NewID(f.now)
	ctx, cancel := context.WithCancel(t.Context())
	results := make(chan error, 1)
	go func() { results <- f.svc.states.add(ctx, f.key(app), 4, 40) }()
	<-f.gate.entered // its transaction runs
	cancel()
	if err := <-results; !errors.Is(err, context.Canceled) {
		t.Fatalf("a sender whose context ended got %v, want context.Canceled", err)
	}
	f.gate.release <- nil
	if err := f.svc.flushStates(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c, b := f.stored(); c != 4 || b != 40 {
		t.Errorf("the store holds %d states (%d bytes), want 4 (40): written once although the sender left", c, b)
	}

	// leaving while queued behind another transaction: written too
	slow := newStateFixture(t, func(n int) bool { return n == 1 })
	go func() { results <- slow.svc.states.add(t.Context(), slow.key(app), 1, 1) }()
	<-slow.gate.entered
	ctx, cancel = context.WithCancel(t.Context())
	left := make(chan error, 1)
	go func() { left <- slow.svc.states.add(ctx, slow.key(app), 5, 50) }()
	for slow.queued() < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("a queued sender whose context ended got %v, want context.Canceled", err)
	}
	slow.gate.release <- nil
	if err := <-results; err != nil {
		t.Fatal(err)
	}
	if err := slow.svc.flushStates(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c, b := slow.stored(); c != 6 || b != 51 {
		t.Errorf("the store holds %d states (%d bytes), want 6 (51)", c, b)
	}
}

// TestStateClose checks that Close writes what is queued before it
// returns, and that states sent after it are refused, not dropped.
func TestStateClose(t *testing.T) {
	t.Parallel()
	f := newStateFixture(t, func(n int) bool { return n == 1 })
	app := accountd.NewID(f.now)
	results := make(chan error, 2)
	go func() { results <- f.svc.states.add(t.Context(), f.key(app), 1, 1) }()
	<-f.gate.entered
	go func() { results <- f.svc.states.add(t.Context(), f.key(app), 2, 2) }()
	for f.queued() < 1 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { f.svc.states.close(); close(closed) }()
	// Close waits for the transaction under way and the one queued
	for {
		f.svc.states.mu.Lock()
		c := f.svc.states.closed
		f.svc.states.mu.Unlock()
		if c {
			break
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a transaction was under way")
	default:
	}
	f.gate.release <- nil
	<-closed
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := f.stored(); c != 3 {
		t.Errorf("after Close the store holds %d states, want 3", c)
	}
	if err := f.svc.states.add(t.Context(), f.key(app), 1, 1); !errors.Is(err, errStatesClosed) {
		t.Errorf("a state after Close got %v, want it refused", err)
	}
	f.svc.states.close() // twice is fine
	// a writer closed before any state never started one
	idle := newStateWriter(1, nil)
	idle.close()
	if err := idle.sync(t.Context()); !errors.Is(err, errStatesClosed) {
		t.Errorf("sync after Close = %v", err)
	}
}

// TestStateConcurrentSenders runs many senders at once against the real
// store and checks that every acknowledged state is counted, exactly.
func TestStateConcurrentSenders(t *testing.T) {
	t.Parallel()
	f := newStateFixture(t, nil)
	apps := []string{accountd.NewID(f.now), accountd.NewID(f.now.Add(time.Second)), accountd.NewID(f.now.Add(2 * time.Second))}
	var wg sync.WaitGroup
	const senders, each = 16, 25
	errs := make(chan error, senders*each)
	for i := range senders {
		wg.Go(func() {
			for j := range each {
				errs <- f.svc.states.add(t.Context(), f.key(apps[(i+j)%len(apps)]), 1, 7)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c, b := f.stored(); c != senders*each || b != 7*senders*each {
		t.Errorf("the store holds %d states (%d bytes), want %d (%d)", c, b, senders*each, 7*senders*each)
	}
	f.gate.mu.Lock()
	txs := f.gate.n
	f.gate.mu.Unlock()
	t.Logf("%d states in %d transactions", senders*each, txs)
}

// TestStateWritersOverlap checks that with two writers a batch commits
// and is answered while another is still in flight, and that a barrier
// (sync, which deleting an owner relies on) waits for every batch taken
// before it, not only its own.
func TestStateWritersOverlap(t *testing.T) {
	t.Parallel()
	f := newStateFixtureWriters(t, 2, func(n int) bool { return n == 1 })
	app := accountd.NewID(f.now)
	first := make(chan error, 1)
	go func() { first <- f.svc.states.add(t.Context(), f.key(app), 1, 10) }()
	<-f.gate.entered // one writer holds the first batch
	// the other writer takes the next state and commits it meanwhile
	if err := f.svc.states.add(t.Context(), f.key(app), 2, 20); err != nil {
		t.Fatal(err)
	}
	if c, b := f.stored(); c != 2 || b != 20 {
		t.Errorf("with the first batch held the store holds %d states (%d bytes), want the second's 2 (20)", c, b)
	}
	synced := make(chan error, 1)
	go func() { synced <- f.svc.flushStates(t.Context()) }()
	select {
	case err := <-synced:
		t.Fatalf("sync returned (%v) while a batch taken before it was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	f.gate.release <- nil
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-synced; err != nil {
		t.Fatal(err)
	}
	if c, b := f.stored(); c != 3 || b != 30 {
		t.Errorf("the store holds %d states (%d bytes), want 3 (30)", c, b)
	}
}

// TestStateFold checks that folding moves the appended counts into the
// sums without changing what a read says, and leaves nothing appended.
func TestStateFold(t *testing.T) {
	t.Parallel()
	f := newStateFixtureWriters(t, 3, nil)
	apps := []string{accountd.NewID(f.now), accountd.NewID(f.now.Add(time.Second))}
	var wg sync.WaitGroup
	const senders, each = 8, 20
	for i := range senders {
		wg.Go(func() {
			for j := range each {
				if err := f.svc.states.add(t.Context(), f.key(apps[(i+j)%2]), 1, 3); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if c, b := f.stored(); c != senders*each || b != 3*senders*each {
		t.Errorf("appended, the store holds %d states (%d bytes), want %d (%d)", c, b, senders*each, 3*senders*each)
	}
	f.svc.foldUsage(t.Context())
	if n, err := f.store.FoldUsage(t.Context(), 1000); err != nil || n != 0 {
		t.Errorf("after foldUsage, FoldUsage found %d rows (%v), want none left", n, err)
	}
	if c, b := f.stored(); c != senders*each || b != 3*senders*each {
		t.Errorf("folded, the store holds %d states (%d bytes), want %d (%d)", c, b, senders*each, 3*senders*each)
	}
}
