package service

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/accountd/accountd"
)

// Device states are the most frequent write there is, and every state of
// an owner's devices adds to the same few sums: one transaction a state
// made those rows the bottleneck (measured: 569 states/s on PostgreSQL,
// whose backends spent 1.6 ms of CPU a state), and counting them in memory
// to write once a second lost the last second's acknowledged states to a
// crash. So states are written with group commit, and appended:
//
//   - Group commit. Each request queues its counts and waits; a writer
//     goroutine takes everything queued, adds it up per owner, application
//     and hour, writes it in one transaction, and only then answers every
//     waiter (each gets the transaction's error if it failed, and nothing
//     of it is counted). A request is answered 200 only after its counts
//     are committed, so an acknowledged state survives a crash the next
//     instant; while one transaction runs, the next batch gathers.
//   - Appended, not added. A batch is appended as rows of its own
//     (AppendUsage: usage_payload_pending, one row per owner, hour, type
//     and source), which conflict with no other write. Adding to the sums
//     directly made every batch of an owner wait for the previous one's
//     row locks through its commit (and, on PostgreSQL, its WAL flush), so
//     batches followed one another however many were ready. Appended, up
//     to `writers` batches are in flight at once (Config.Usage.StateWriters:
//     serve runs 4 with PostgreSQL, whose own group commit then shares the
//     WAL flushes of overlapping commits; 1 with SQLite, whose writers take
//     turns anyway), each answered after its own commit. (Measured on
//     PostgreSQL, 16 connections, a busy 2-core machine: one writer made
//     1,519 states/s, two to eight 2,497 to 4,054; BENCHMARKS.md.)
//   - Folded. Every usage read counts the appended rows with the sums in
//     one statement, so a caller reads their own acknowledged states at
//     once, on every instance. Once a second each instance folds appended
//     rows into the sums (Service.foldUsage: at most stateFoldChunk rows a
//     transaction, deleted and added in the same transaction; on
//     PostgreSQL taken FOR UPDATE SKIP LOCKED, so folders on several
//     instances take different rows), which keeps the appended rows a
//     read sees to about a second's worth.
//
// A waiter whose context ends stops waiting, but its counts stay queued
// and are written once, like the rest: once queued, counts are the
// writer's, never dropped or retried by a request. sync (a barrier) is
// answered once every batch taken before its own has committed. Close
// stops taking counts, writes what is queued, and ends the writers.
type stateWriter struct {
	write   func(ctx context.Context, recs []accountd.UsageRecord) error
	writers int

	mu      sync.Mutex
	queue   []*stateWait
	last    chan struct{} // closed once the batch taken last, and every one before it, is answered
	started bool
	closed  bool
	wake    chan struct{} // one pending signal at most
	done    chan struct{} // closed when the writers have drained and ended
}

type stateKey struct {
	owner accountd.OwnerRef
	app   string
	hour  time.Time
}

// stateWait is one request's counts (none for a barrier) and where its
// outcome goes.
type stateWait struct {
	key          stateKey
	count, bytes int64
	result       chan error // buffered: the writer never blocks on a waiter that left
}

// errStatesClosed answers a state sent after Close.
var errStatesClosed = errors.New("device state writer closed")

// stateWriteTimeout bounds one transaction of the writer.
const stateWriteTimeout = 30 * time.Second

// newStateWriter makes a writer that keeps up to writers (at least 1)
// batches in flight.
func newStateWriter(writers int, write func(ctx context.Context, recs []accountd.UsageRecord) error) *stateWriter {
	return &stateWriter{write: write, writers: max(1, writers), wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// enqueue queues w for the writer, starting it on first use.
func (b *stateWriter) enqueue(w *stateWait) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errStatesClosed
	}
	if !b.started {
		b.started = true
		var wg sync.WaitGroup
		for range b.writers {
			wg.Go(b.run)
		}
		go func() { wg.Wait(); close(b.done) }()
	}
	b.queue = append(b.queue, w)
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return nil
}

// add queues counts and waits until they are committed.
func (b *stateWriter) add(ctx context.Context, k stateKey, count, bytes int64) error {
	return b.wait(ctx, &stateWait{key: k, count: count, bytes: bytes, result: make(chan error, 1)})
}

// sync waits until everything queued before it is written (nil if there
// was nothing to write or it was written).
func (b *stateWriter) sync(ctx context.Context) error {
	return b.wait(ctx, &stateWait{result: make(chan error, 1)})
}

func (b *stateWriter) wait(ctx context.Context, w *stateWait) error {
	if err := b.enqueue(w); err != nil {
		return err
	}
	select {
	case err := <-w.result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is a writer: it takes all that is queued, writes it, answers it,
// and again, until Close has been called and the queue is empty. While it
// writes, another writer may take what arrives meanwhile.
func (b *stateWriter) run() {
	for {
		_, open := <-b.wake
		for {
			// Senders that are ready to run get there first: on a busy
			// machine this gathers more states into each transaction
			// (16 senders on SQLite, in-process, load average 15: 3.7
			// states a transaction instead of 1.7), and when nothing else
			// is ready to run it costs nothing.
			runtime.Gosched()
			b.mu.Lock()
			batch := b.queue
			b.queue = nil
			var prev, done chan struct{}
			if len(batch) > 0 {
				prev, done = b.last, make(chan struct{})
				b.last = done
			}
			b.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			b.commit(batch, prev, done)
		}
		if !open { // closed: nothing more can be queued, and the queue is empty
			return
		}
	}
}

// commit writes a batch in one transaction and answers its waiters; its
// barriers only once the batch taken before it (prev, nil for the first)
// is answered too. done is closed when that is so and all of the batch's
// waiters are answered, which chains the batches in the order taken.
func (b *stateWriter) commit(batch []*stateWait, prev, done chan struct{}) {
	sums := make(map[stateKey][2]int64, len(batch))
	for _, w := range batch {
		if w.count == 0 {
			continue // a barrier
		}
		v := sums[w.key]
		sums[w.key] = [2]int64{v[0] + w.count, v[1] + w.bytes}
	}
	var err error
	if len(sums) > 0 {
		recs := make([]accountd.UsageRecord, 0, len(sums))
		for k, v := range sums {
			recs = append(recs, accountd.UsageRecord{
				UsageEvent: accountd.UsageEvent{Kind: accountd.UsagePayload, Time: k.hour, ApplicationID: k.app,
					Type: "deviceState", Source: "rest", Count: v[0], Bytes: v[1]},
				Owner: k.owner,
			})
		}
		ctx, cancel := context.WithTimeout(context.Background(), stateWriteTimeout)
		err = b.write(ctx, recs)
		cancel()
	}
	for _, w := range batch {
		if w.count != 0 {
			w.result <- err
		}
	}
	finish := func() {
		for _, w := range batch {
			if w.count == 0 {
				w.result <- err
			}
		}
		close(done)
	}
	if prev == nil {
		finish()
		return
	}
	select {
	case <-prev:
		finish()
	default: // an earlier batch is still in flight: this writer goes on
		go func() {
			<-prev
			finish()
		}()
	}
}

// close stops taking counts, and returns once everything queued is
// written and the writer has ended.
func (b *stateWriter) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.done
		return
	}
	b.closed = true
	if b.started {
		close(b.wake) // the writers drain the queue, then return
	} else {
		close(b.done)
	}
	b.mu.Unlock()
	<-b.done
}

// flushStates waits until every device state count queued so far is
// written: deleting an account or organization calls it first, so that a
// state taken just before goes with the rest of its usage.
func (s *Service) flushStates(ctx context.Context) error {
	if err := s.states.sync(ctx); err != nil {
		return stateError(err)
	}
	return nil
}

// stateError makes the writer's errors domain errors: all are ours.
func stateError(err error) error {
	var e *accountd.Error
	if errors.As(err, &e) {
		return err
	}
	return accountd.Internal(err)
}

// Folding: every stateFoldInterval, up to stateFoldChunks transactions of
// stateFoldChunk appended rows each; a tick ends early once a transaction
// finds fewer rows than it may take.
const (
	stateFoldInterval = time.Second
	stateFoldChunk    = 5000
	stateFoldChunks   = 20
)

// foldUsage moves appended device state counts into the usage sums
// (Store.FoldUsage). A failure is logged and the rows stay appended,
// counted by every read, for the next tick.
func (s *Service) foldUsage(ctx context.Context) {
	for range stateFoldChunks {
		n, err := s.store.FoldUsage(ctx, stateFoldChunk)
		if err != nil {
			s.log.Warn("folding device state counts into the usage sums", "err", err)
			return
		}
		if n < stateFoldChunk {
			return
		}
	}
}
