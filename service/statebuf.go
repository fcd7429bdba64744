package service

import (
	"context"
	"sync"
	"time"

	"github.com/accountd/accountd"
)

// Device states are the most frequent write there is, and every state of
// an owner's devices adds to the same few sums: one transaction a state
// made those rows the bottleneck (measured: 569 states/s on PostgreSQL,
// whose backends spent 1.6 ms of CPU a state). So states are added up in
// memory and written every UsageConfig.StateFlush (default 1s) in one
// transaction, before any usage query of this instance (so a caller reads
// their own states back at once), and at Close. A crash loses at most the
// states of the last interval; a usage report (RecordUsage) is always
// written before it is answered.
type stateBuffer struct {
	flushing sync.Mutex // held through a write, so a flush waits for one under way
	mu       sync.Mutex
	sums     map[stateKey]stateSum
}

type stateKey struct {
	owner accountd.OwnerRef
	app   string
	hour  time.Time
}

type stateSum struct{ count, bytes int64 }

func newStateBuffer() *stateBuffer { return &stateBuffer{sums: map[stateKey]stateSum{}} }

func (b *stateBuffer) add(k stateKey, count, bytes int64) {
	b.mu.Lock()
	v := b.sums[k]
	b.sums[k] = stateSum{v.count + count, v.bytes + bytes}
	b.mu.Unlock()
}

// take empties the buffer and returns what it held.
func (b *stateBuffer) take() map[stateKey]stateSum {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.sums) == 0 {
		return nil
	}
	out := b.sums
	b.sums = map[stateKey]stateSum{}
	return out
}

// flushStates writes the buffered states. On failure they go back into the
// buffer for the next attempt.
func (s *Service) flushStates(ctx context.Context) error {
	b := s.states
	b.flushing.Lock()
	defer b.flushing.Unlock()
	sums := b.take()
	if sums == nil {
		return nil
	}
	recs := make([]accountd.UsageRecord, 0, len(sums))
	for k, v := range sums {
		recs = append(recs, accountd.UsageRecord{
			UsageEvent: accountd.UsageEvent{Kind: accountd.UsagePayload, Time: k.hour, ApplicationID: k.app,
				Type: "deviceState", Source: "rest", Count: v.count, Bytes: v.bytes},
			Owner: k.owner,
		})
	}
	if _, err := s.store.RecordUsage(ctx, recs, s.now()); err != nil {
		for k, v := range sums {
			b.add(k, v.count, v.bytes)
		}
		return err
	}
	return nil
}

// flushStatesInBackground is flushStates for the ticker: failures are
// logged and retried on the next tick.
func (s *Service) flushStatesInBackground(ctx context.Context) {
	if err := s.flushStates(ctx); err != nil {
		s.log.Error("writing device state counts", "err", err)
	}
}
