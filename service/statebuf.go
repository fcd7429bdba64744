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
// crash. So states are written with group commit: each request queues its
// counts and waits; one writer goroutine takes everything queued, adds it
// up per owner, application and hour, writes it in one transaction, and
// only then answers every waiter (each gets the transaction's error if it
// failed, and nothing of it is counted). A request is answered 200 only
// after its counts are committed, so an acknowledged state survives a
// crash the next instant; while one transaction runs, the next batch
// gathers, so the rate of transactions follows the database, not the
// requests. (On PostgreSQL a batch is one statement: see the store's
// RecordUsage.)
//
// A waiter whose context ends stops waiting, but its counts stay queued
// and are written once, like the rest: once queued, counts are the
// writer's, never dropped or retried by a request. Close stops taking
// counts, writes what is queued, and ends the writer.
type stateWriter struct {
	write func(ctx context.Context, recs []accountd.UsageRecord) error

	mu      sync.Mutex
	queue   []*stateWait
	started bool
	closed  bool
	wake    chan struct{} // one pending signal at most
	done    chan struct{} // closed when the writer has drained and ended
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

func newStateWriter(write func(ctx context.Context, recs []accountd.UsageRecord) error) *stateWriter {
	return &stateWriter{write: write, wake: make(chan struct{}, 1), done: make(chan struct{})}
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
		go b.run()
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

// run is the writer: it takes all that is queued, writes it, answers it,
// and again, until Close has been called and the queue is empty.
func (b *stateWriter) run() {
	defer close(b.done)
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
			b.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			b.commit(batch)
		}
		if !open { // closed: nothing more can be queued, and the queue is empty
			return
		}
	}
}

// commit writes a batch in one transaction and answers its waiters.
func (b *stateWriter) commit(batch []*stateWait) {
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
		w.result <- err
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
	started := b.started
	if started {
		close(b.wake) // run drains the queue, then returns
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
