package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

// appendUsage appends recs and fails the test on an error.
func appendUsage(t *testing.T, st accountd.Store, recs ...accountd.UsageRecord) {
	t.Helper()
	if err := st.AppendUsage(t.Context(), recs); err != nil {
		t.Fatalf("AppendUsage: %v", err)
	}
}

// foldUsage folds up to limit rows and checks that want were folded.
func foldUsage(t *testing.T, st accountd.Store, limit, want int) {
	t.Helper()
	n, err := st.FoldUsage(t.Context(), limit)
	if err != nil {
		t.Fatalf("FoldUsage(%d): %v", limit, err)
	}
	if n != want {
		t.Errorf("FoldUsage(%d) folded %d rows, want %d", limit, n, want)
	}
}

// testUsageAppendFold appends device-state counts beside summed usage of
// the same keys: every read counts them at once, before, during and after
// folds of a few rows at a time, and folding changes no answer.
func testUsageAppendFold(t *testing.T, st accountd.Store) {
	a := createUser(t, st, fullUser("a@example.com"))
	o := createOrg(t, st, "Appended", a.ID)
	u, org := userRef(a), orgRef(o)

	// summed: 5 mqttIn and 1 deviceState in hour 10 of March 1
	recordUsage(t, st, []accountd.UsageRecord{
		payload("ev-1", u, mar(1, 10, 5, 0, 0), "mqttIn", "mqtt", 5, 50),
		payload("ev-2", u, mar(1, 10, 6, 0, 0), "deviceState", "rest", 1, 10),
	}, mar(2, 0, 0, 0, 0), 2)
	// appended: one batch adds up records of one hour (3 rows: two hours
	// of the user, one of the organization), then more batches
	appendUsage(t, st,
		payload("", u, mar(1, 10, 0, 0, 0), "deviceState", "rest", 2, 20),
		payload("", u, mar(1, 10, 59, 59, 999), "deviceState", "rest", 1, 5),
		payload("", u, mar(1, 23, 30, 0, 0), "deviceState", "rest", 4, 40),
		payload("", org, mar(1, 10, 0, 0, 0), "deviceState", "rest", 7, 70))
	appendUsage(t, st, payload("", u, mar(2, 0, 0, 0, 0), "deviceState", "rest", 8, 80))
	appendUsage(t, st, payload("", u, mar(1, 10, 1, 0, 0), "webhook", "rest", 16, 160))
	appendUsage(t, st) // nothing: no row

	check := func(t *testing.T) {
		t.Helper()
		checkTotals(t, st, u, mar(1, 0, 0, 0, 0), mar(2, 23, 0, 0, 0),
			"deviceState/rest 16/155", "mqttIn/mqtt 5/50", "webhook/rest 16/160")
		checkTotals(t, st, u, mar(1, 10, 0, 0, 0), mar(1, 10, 0, 0, 0),
			"deviceState/rest 4/35", "mqttIn/mqtt 5/50", "webhook/rest 16/160")
		checkTotals(t, st, u, mar(1, 11, 0, 0, 0), mar(1, 23, 0, 0, 0), "deviceState/rest 4/40")
		checkTotals(t, st, u, mar(2, 0, 0, 0, 0), mar(3, 0, 0, 0, 0), "deviceState/rest 8/80")
		checkTotals(t, st, u, mar(1, 11, 0, 0, 0), mar(1, 22, 0, 0, 0))
		// a whole day in the middle (daily sums) and hours at either end
		checkTotals(t, st, u, mar(0, 23, 0, 0, 0), mar(2, 0, 0, 0, 0),
			"deviceState/rest 16/155", "mqttIn/mqtt 5/50", "webhook/rest 16/160")
		checkTotals(t, st, org, mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0), "deviceState/rest 7/70")
		checkSeries(t, st, u, mar(1, 0, 0, 0, 0), mar(2, 23, 0, 0, 0), false, []string{"deviceState"},
			"2026-03-01T10:00Z 4/35", "2026-03-01T23:00Z 4/40", "2026-03-02T00:00Z 8/80")
		checkSeries(t, st, u, mar(1, 10, 0, 0, 0), mar(1, 10, 0, 0, 0), false, []string{"deviceState", "webhook", "mqttIn"},
			"2026-03-01T10:00Z 25/245")
		checkSeries(t, st, u, mar(1, 0, 0, 0, 0), mar(2, 0, 0, 0, 0), true, []string{"deviceState", "mqttIn"},
			"2026-03-01T00:00Z 13/125", "2026-03-02T00:00Z 8/80")
		checkSeries(t, st, u, mar(1, 0, 0, 0, 0), mar(1, 0, 0, 0, 0), true, []string{"webhook"}, "2026-03-01T00:00Z 16/160")
		checkSeries(t, st, u, mar(2, 0, 0, 0, 0), mar(9, 0, 0, 0, 0), true, []string{"webhook"})
		checkSeries(t, st, org, mar(1, 0, 0, 0, 0), mar(1, 0, 0, 0, 0), true, []string{"deviceState"}, "2026-03-01T00:00Z 7/70")
	}
	t.Run("appended", check)
	foldUsage(t, st, 2, 2) // the oldest two rows of the five
	t.Run("two folded", check)
	foldUsage(t, st, 2, 2)
	t.Run("four folded", check)
	foldUsage(t, st, 100, 1)
	foldUsage(t, st, 100, 0)
	foldUsage(t, st, 0, 0)
	t.Run("all folded", check)

	// appending after folds adds to the folded sums
	appendUsage(t, st, payload("", u, mar(1, 10, 0, 0, 0), "deviceState", "rest", 100, 1000))
	checkTotals(t, st, u, mar(1, 10, 0, 0, 0), mar(1, 10, 0, 0, 0),
		"deviceState/rest 104/1035", "mqttIn/mqtt 5/50", "webhook/rest 16/160")
	foldUsage(t, st, 10, 1)
	checkTotals(t, st, u, mar(1, 10, 0, 0, 0), mar(1, 10, 0, 0, 0),
		"deviceState/rest 104/1035", "mqttIn/mqtt 5/50", "webhook/rest 16/160")

	// only id-less payloads may be appended, and a refused batch appends nothing
	for _, bad := range []accountd.UsageRecord{
		payload("has-id", u, mar(1, 10, 0, 0, 0), "deviceState", "rest", 1, 1),
		notebookRun("", u, mar(1, 10, 0, 0, 0), 3, "completed"),
	} {
		err := st.AppendUsage(t.Context(), []accountd.UsageRecord{payload("", u, mar(1, 10, 0, 0, 0), "deviceState", "rest", 1, 1), bad})
		if err == nil {
			t.Errorf("AppendUsage(%+v) succeeded, want it refused", bad)
		}
	}
	foldUsage(t, st, 10, 0)
	checkTotals(t, st, u, mar(1, 10, 0, 0, 0), mar(1, 10, 0, 0, 0),
		"deviceState/rest 104/1035", "mqttIn/mqtt 5/50", "webhook/rest 16/160")
}

// testUsageAppendLarge appends one batch of more rows than one statement
// takes (300 hours): all or nothing, read at once, folded exactly.
func testUsageAppendLarge(t *testing.T, st accountd.Store) {
	u := userRef(createUser(t, st, fullUser("large@example.com")))
	var recs []accountd.UsageRecord
	for h := range 300 {
		recs = append(recs, payload("", u, mar(1, 0, 0, 0, 0).Add(time.Duration(h)*time.Hour), "deviceState", "rest", 2, 3))
	}
	appendUsage(t, st, recs...)
	from, to := mar(1, 0, 0, 0, 0), mar(31, 0, 0, 0, 0)
	checkTotals(t, st, u, from, to, "deviceState/rest 600/900")
	checkSeries(t, st, u, mar(13, 0, 0, 0, 0), mar(13, 0, 0, 0, 0), true, []string{"deviceState"}, "2026-03-13T00:00Z 24/36")
	foldUsage(t, st, 250, 250)
	checkTotals(t, st, u, from, to, "deviceState/rest 600/900")
	foldUsage(t, st, 250, 50)
	checkTotals(t, st, u, from, to, "deviceState/rest 600/900")
	checkSeries(t, st, u, mar(13, 0, 0, 0, 0), mar(13, 0, 0, 0, 0), true, []string{"deviceState"}, "2026-03-13T00:00Z 24/36")
	// the last of the 300 hours is 11:00 on March 13, the 12th of that day
	checkSeries(t, st, u, mar(13, 10, 0, 0, 0), mar(13, 23, 0, 0, 0), false, []string{"deviceState"},
		"2026-03-13T10:00Z 2/3", "2026-03-13T11:00Z 2/3")
}

// testUsageAppendDeleteOwner deletes an owner with appended counts: they
// go with the rest of its usage and no fold brings them back.
func testUsageAppendDeleteOwner(t *testing.T, st accountd.Store) {
	leaving := createUser(t, st, fullUser("leaving@example.com"))
	staying := createUser(t, st, fullUser("staying@example.com"))
	gone, kept := userRef(leaving), userRef(staying)
	appendUsage(t, st, payload("", gone, mar(1, 10, 0, 0, 0), "deviceState", "rest", 3, 30))
	appendUsage(t, st, payload("", kept, mar(1, 10, 0, 0, 0), "deviceState", "rest", 1, 10))
	foldUsage(t, st, 1, 1) // the leaving user's first row is in the sums
	appendUsage(t, st, payload("", gone, mar(1, 11, 0, 0, 0), "deviceState", "rest", 5, 50))
	if err := st.DeleteUser(t.Context(), leaving.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	foldUsage(t, st, 10, 1) // the kept owner's row; the leaving user's went
	from, to := mar(1, 0, 0, 0, 0), mar(1, 23, 0, 0, 0)
	checkTotals(t, st, gone, from, to)
	checkSeries(t, st, gone, from, to, false, []string{"deviceState"})
	checkTotals(t, st, kept, from, to, "deviceState/rest 1/10")
}

// RunSharedUsage checks that appenders and folders working on one database
// through two stores at once (two instances sharing a PostgreSQL, or two
// processes on one SQLite file) count every appended state once: open
// returns two stores on the same fresh database.
func RunSharedUsage(t *testing.T, open func(t *testing.T) (a, b accountd.Store)) {
	a, b := open(t)
	t.Cleanup(func() {
		for _, st := range []accountd.Store{a, b} {
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
	appendAndFoldAtOnce(t, a, b)
}

// testUsageAppendConcurrent is RunSharedUsage's load on one store.
func testUsageAppendConcurrent(t *testing.T, st accountd.Store) {
	appendAndFoldAtOnce(t, st, st)
}

// appendAndFoldAtOnce appends batches from six goroutines, half through
// a and half through b, while four folders (two on each) fold three rows
// at a time, then folds the rest: every row must be folded once and every
// read, through either store, exact.
func appendAndFoldAtOnce(t *testing.T, a, b accountd.Store) {
	ctx := t.Context()
	user := createUser(t, a, fullUser("shared@example.com"))
	org := createOrg(t, a, "Shared", user.ID)
	owners := []accountd.OwnerRef{userRef(user), orgRef(org)}
	hours := []time.Time{mar(1, 10, 0, 0, 0), mar(1, 11, 0, 0, 0), mar(2, 0, 0, 0, 0)}
	stores := []accountd.Store{a, b}

	const appenders, batches = 6, 40
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		errs     []error
		folded   atomic.Int64
		appended atomic.Int64 // rows appended
		stop     = make(chan struct{})
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	// two folders on each store, folding a few rows at a time meanwhile
	var folders sync.WaitGroup
	for i := range 4 {
		st := stores[i%2]
		folders.Go(func() {
			for {
				n, err := st.FoldUsage(ctx, 3)
				if err != nil {
					fail(fmt.Errorf("folder %d: %w", i, err))
					return
				}
				folded.Add(int64(n))
				select {
				case <-stop:
					return
				default:
				}
				if n == 0 {
					time.Sleep(time.Millisecond) // nothing yet: let the appenders at it
				}
			}
		})
	}
	for g := range appenders {
		st := stores[g%2]
		wg.Go(func() {
			for n := range batches {
				// every batch: each owner's every hour, count g+1, bytes n+1
				var recs []accountd.UsageRecord
				for _, o := range owners {
					for _, h := range hours {
						recs = append(recs, payload("", o, h.Add(time.Duration(n)*time.Second), "deviceState", "rest", int64(g+1), int64(n+1)))
					}
				}
				if err := st.AppendUsage(ctx, recs); err != nil {
					fail(fmt.Errorf("appender %d batch %d: %w", g, n, err))
					return
				}
				appended.Add(int64(len(recs)))
			}
		})
	}
	wg.Wait()
	close(stop)
	folders.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// what the folders left
	for {
		n, err := b.FoldUsage(ctx, 1000)
		if err != nil {
			t.Fatalf("FoldUsage: %v", err)
		}
		if n == 0 {
			break
		}
		folded.Add(int64(n))
	}
	if folded.Load() != appended.Load() {
		t.Errorf("%d rows folded in all, want the %d appended: each once", folded.Load(), appended.Load())
	}
	// per owner and hour: counts 1+...+6 = 21 a batch number, 40 of them;
	// bytes (1+...+40) per appender
	const count, bytes = 21 * batches, appenders * batches * (batches + 1) / 2
	for _, st := range stores {
		for _, o := range owners {
			checkTotals(t, st, o, mar(1, 0, 0, 0, 0), mar(2, 23, 0, 0, 0), fmt.Sprintf("deviceState/rest %d/%d", 3*count, 3*bytes))
			checkSeries(t, st, o, mar(1, 0, 0, 0, 0), mar(2, 0, 0, 0, 0), true, []string{"deviceState"},
				fmt.Sprintf("2026-03-01T00:00Z %d/%d", 2*count, 2*bytes), fmt.Sprintf("2026-03-02T00:00Z %d/%d", count, bytes))
			checkSeries(t, st, o, mar(1, 10, 0, 0, 0), mar(1, 11, 0, 0, 0), false, []string{"deviceState"},
				fmt.Sprintf("2026-03-01T10:00Z %d/%d", count, bytes), fmt.Sprintf("2026-03-01T11:00Z %d/%d", count, bytes))
		}
	}
}
