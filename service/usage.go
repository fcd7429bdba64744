package service

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

// UsageConfig configures usage metering.
type UsageConfig struct {
	// Keys are the credentials of the platform services that report usage
	// (POST /usage/events); none means the endpoint refuses everyone.
	Keys []UsageKey
	// IDRetention is how long reported event ids are kept to refuse a
	// retried event (default 30 days); a retry after that counts again.
	IDRetention time.Duration
	// StateWriters is how many transactions of device states may be in
	// flight at once (default 1; statebuf.go).
	StateWriters int
}

// UsageKey is a service's credential: a name for the logs and the SHA-256
// of the key, so the configuration holds no secret.
type UsageKey struct {
	Name string
	Hash [sha256.Size]byte
}

// usageKeyPrefix marks the keys keygen makes, so that one pasted in the
// wrong place is recognisable; any key whose SHA-256 is listed works.
const usageKeyPrefix = "auk_"

// NewUsageKey makes a usage key from 32 random bytes and the line that
// configures it in a usage keys file.
func NewUsageKey(random io.Reader, name string) (key, line string, err error) {
	if err := validUsageKeyName(name); err != nil {
		return "", "", err
	}
	var b [32]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", "", err
	}
	key = usageKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(key))
	return key, name + " " + hex.EncodeToString(h[:]), nil
}

func validUsageKeyName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsFunc(name, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		return accountd.Invalid("name", "must be 1 to 64 letters, digits, '-', '_' or '.'")
	}
	return nil
}

// ParseUsageKeys reads a usage keys file: one "NAME SHA256HEX" a line;
// blank lines and lines starting with # are skipped.
func ParseUsageKeys(r io.Reader) ([]UsageKey, error) {
	var out []UsageKey
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("line %d: want NAME SHA256HEX", n)
		}
		if validUsageKeyName(fields[0]) != nil {
			return nil, fmt.Errorf("line %d: the name must be 1 to 64 letters, digits, '-', '_' or '.'", n)
		}
		h, err := hex.DecodeString(fields[1])
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("line %d: the hash must be 64 hex characters (the SHA-256 of the key, as `accountd usage keygen` prints it)", n)
		}
		k := UsageKey{Name: fields[0]}
		copy(k.Hash[:], h)
		out = append(out, k)
	}
	return out, sc.Err()
}

// UsageKeyName returns the name of the service whose key this is. Keys are
// compared by their SHA-256, so the lookup's timing says nothing of a key.
func (s *Service) UsageKeyName(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	h := sha256.Sum256([]byte(key))
	name, ok := s.usageKeys[h]
	return name, ok
}

// MaxUsageBatch bounds the events of one report.
const MaxUsageBatch = 10_000

// UsageResult says what became of a report.
type UsageResult struct {
	Received, Recorded int
}

// RecordUsage records a report of events all at once, or nothing: any
// invalid event, or one naming an application that does not exist, refuses
// the report. Events whose id was recorded before are skipped. label names
// event i in errors (default "events[i]").
func (s *Service) RecordUsage(ctx context.Context, events []accountd.UsageEvent, label func(i int) string) (UsageResult, error) {
	if label == nil {
		label = func(i int) string { return fmt.Sprintf("events[%d]", i) }
	}
	if len(events) == 0 {
		return UsageResult{}, accountd.Invalid("events", "must hold at least one event")
	}
	if len(events) > MaxUsageBatch {
		return UsageResult{}, accountd.Invalid("events", "must hold at most %d events", MaxUsageBatch)
	}
	now := s.now()
	ids := make([]string, 0, len(events))
	for i := range events {
		if err := events[i].Validate(label(i), now); err != nil {
			return UsageResult{}, err
		}
		ids = append(ids, events[i].ApplicationID)
	}
	owners, err := s.store.ApplicationOwners(ctx, ids)
	if err != nil {
		return UsageResult{}, err
	}
	recs := make([]accountd.UsageRecord, len(events))
	for i, e := range events {
		o, ok := owners[e.ApplicationID]
		if !ok {
			return UsageResult{}, accountd.Invalid(label(i)+".applicationId", "no application has this id")
		}
		recs[i] = accountd.UsageRecord{UsageEvent: e, Owner: o}
	}
	n, err := s.store.RecordUsage(ctx, recs, now)
	if err != nil {
		return UsageResult{}, err
	}
	// the owners' GET /me summaries (payloadCount) are stale here at once;
	// other instances let them expire within a second
	var users []string
	for _, o := range owners {
		if o.Type == accountd.OwnerUser && !slices.Contains(users, o.ID) {
			users = append(users, o.ID)
		}
	}
	s.meViews.forget(users...)
	return UsageResult{Received: len(events), Recorded: n}, nil
}

// SendState counts device states (device.sendState) as deviceState
// payloads from source "rest": sizes holds each state's size in bytes. The
// states themselves are not kept; SendState returns once their counts are
// committed, appended together with other requests' in one transaction
// (statebuf.go).
func (s *Service) SendState(ctx context.Context, p accountd.Principal, appID, deviceID string, sizes []int64) error {
	owner, appID, err := s.stateTarget(ctx, p, appID, deviceID) // targets.go
	if err != nil {
		return err
	}
	if len(sizes) == 0 {
		return accountd.Invalid("deviceState", "must hold at least one state")
	}
	var total int64
	for _, n := range sizes {
		total += n
	}
	k := stateKey{owner: owner, app: appID, hour: accountd.Hour(s.now())}
	if err := s.states.add(ctx, k, int64(len(sizes)), total); err != nil {
		return stateError(err)
	}
	return nil
}

// MaxUsageBuckets bounds the entries (days, or hours) one usage series
// answers with: the reference sets no limit on a range, so the span is
// free (me.md's own example asks from the epoch) but the answer's size is
// bounded. 40,000 days reach back past the epoch from any date this
// century; 40,000 hours are about four and a half years. Payload counts
// are one sum whatever the range, and take any.
const MaxUsageBuckets = 40_000

// UsageRange is a query's range, as given: nil Start or End take the
// defaults (End now; Start the first moment of End's UTC month).
type UsageRange struct {
	Start, End *time.Time
}

// resolve applies the defaults and checks the order of start and end.
func (s *Service) resolve(r UsageRange) (from, to time.Time, err error) {
	to = s.now().UTC()
	if r.End != nil {
		to = r.End.UTC()
	}
	from = time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
	if r.Start != nil {
		from = r.Start.UTC()
	}
	switch {
	case from.Before(time.UnixMilli(0)):
		return from, to, accountd.Invalid("start", "must not be before the epoch")
	case from.After(to):
		return from, to, accountd.Invalid("start", "must not be after end")
	}
	return from, to, nil
}

// buckets returns the first and last bucket (UTC day, or hour) of the
// range, refusing a range of more than MaxUsageBuckets of them.
func buckets(from, to time.Time, hourly bool) (first, last time.Time, step time.Duration, err error) {
	step, first, last, unit := 24*time.Hour, accountd.Day(from), accountd.Day(to), "days"
	if hourly {
		step, first, last, unit = time.Hour, accountd.Hour(from), accountd.Hour(to), "hours"
	}
	if n := int64(last.Sub(first)/step) + 1; n > MaxUsageBuckets {
		return first, last, step, accountd.Invalid("end", "the range holds %d %s, and a query answers with at most %d entries (buckets): move start and end closer",
			n, unit, MaxUsageBuckets)
	}
	return first, last, step, nil
}

// me is the owner usage queries report on: the user, for the applications
// they own themselves.
func me(p accountd.Principal) accountd.OwnerRef {
	return accountd.OwnerRef{Type: accountd.OwnerUser, ID: p.UserID}
}

// PayloadStats maps each payload type to its sums by source.
type PayloadStats map[string]map[string]int64

// PayloadCounts sums the user's payloads by type and source (or their
// bytes) over the whole hours the range touches. Every type is present.
func (s *Service) PayloadCounts(ctx context.Context, p accountd.Principal, r UsageRange, asBytes bool) (PayloadStats, error) {
	from, to, err := s.resolve(r)
	if err != nil {
		return nil, err
	}
	return s.payloadStats(ctx, me(p), from, to, asBytes)
}

func (s *Service) payloadStats(ctx context.Context, o accountd.OwnerRef, from, to time.Time, asBytes bool) (PayloadStats, error) {
	totals, err := s.store.PayloadTotals(ctx, o, from, to)
	if err != nil {
		return nil, err
	}
	out := make(PayloadStats, len(accountd.PayloadTypes))
	for _, t := range accountd.PayloadTypes {
		out[t] = map[string]int64{}
	}
	for _, t := range totals {
		m := out[t.Type]
		if m == nil { // a type this version no longer names
			continue
		}
		if asBytes {
			m[t.Source] += t.Bytes
		} else {
			m[t.Source] += t.Count
		}
	}
	return out, nil
}

// monthPayloads is the summary's payloadCount: this UTC month so far.
func (s *Service) monthPayloads(ctx context.Context, userID string) (PayloadStats, error) {
	now := s.now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return s.payloadStats(ctx, accountd.OwnerRef{Type: accountd.OwnerUser, ID: userID}, start, now, false)
}

// Series is a usage query's answer: one point per bucket from Start
// through End (the last millisecond of the last bucket).
type Series[T any] struct {
	Start, End time.Time
	Points     []T
}

// PayloadPoint is one bucket of a payload breakdown.
type PayloadPoint struct {
	At    time.Time
	Value int64
}

// PayloadBreakdown sums the user's payloads (or bytes) per UTC day or per
// hour, every bucket of the range present.
func (s *Service) PayloadBreakdown(ctx context.Context, p accountd.Principal, r UsageRange, hourly, asBytes, includeNonBillable bool) (Series[PayloadPoint], error) {
	from, to, err := s.resolve(r)
	if err != nil {
		return Series[PayloadPoint]{}, err
	}
	first, last, step, err := buckets(from, to, hourly)
	if err != nil {
		return Series[PayloadPoint]{}, err
	}
	types := accountd.BillablePayloadTypes
	if includeNonBillable {
		types = accountd.PayloadTypes
	}
	rows, err := s.store.PayloadSeries(ctx, me(p), first, last, !hourly, types)
	if err != nil {
		return Series[PayloadPoint]{}, err
	}
	out := Series[PayloadPoint]{Start: first, End: last.Add(step - time.Millisecond)}
	eachBucket(first, last, step, rows, func(b accountd.PayloadBucket) time.Time { return b.At },
		func(at time.Time, in []accountd.PayloadBucket) {
			pt := PayloadPoint{At: at}
			for _, b := range in {
				if asBytes {
					pt.Value += b.Bytes
				} else {
					pt.Value += b.Count
				}
			}
			out.Points = append(out.Points, pt)
		})
	return out, nil
}

// eachBucket calls fn for every bucket from first through last, step
// apart, with the rows (in time order) that fall in it; at gives a row's
// time.
func eachBucket[R any](first, last time.Time, step time.Duration, rows []R, at func(R) time.Time, fn func(bucket time.Time, in []R)) {
	i := 0
	for b := first; !b.After(last); b = b.Add(step) {
		j := i
		for j < len(rows) && at(rows[j]).Before(b.Add(step)) {
			j++
		}
		fn(b, rows[i:j])
		i = j
	}
}

// DevicePoint is one UTC day of device counts: Total is how many devices
// the user's applications held at its end.
type DevicePoint struct {
	At                      time.Time
	Created, Deleted, Total int64
}

// DeviceCounts reports the user's devices per UTC day.
func (s *Service) DeviceCounts(ctx context.Context, p accountd.Principal, r UsageRange) (Series[DevicePoint], error) {
	from, to, err := s.resolve(r)
	if err != nil {
		return Series[DevicePoint]{}, err
	}
	first, last, _, err := buckets(from, to, false)
	if err != nil {
		return Series[DevicePoint]{}, err
	}
	total, hours, err := s.store.DeviceHours(ctx, me(p), first, last.Add(23*time.Hour))
	if err != nil {
		return Series[DevicePoint]{}, err
	}
	out := Series[DevicePoint]{Start: first, End: last.Add(24*time.Hour - time.Millisecond)}
	eachBucket(first, last, 24*time.Hour, hours, func(h accountd.DeviceHour) time.Time { return h.Hour },
		func(day time.Time, in []accountd.DeviceHour) {
			pt := DevicePoint{At: day}
			for _, h := range in {
				pt.Created += h.Created
				pt.Deleted += h.Deleted
				total += h.Net
			}
			pt.Total = total
			out.Points = append(out.Points, pt)
		})
	return out, nil
}

// NotebookPoint is one UTC day of notebook runs.
type NotebookPoint struct {
	At                                              time.Time
	Minutes, Completed, Canceled, Errored, TimedOut int64
}

// NotebookMinuteCounts reports the user's notebook runs per UTC day.
func (s *Service) NotebookMinuteCounts(ctx context.Context, p accountd.Principal, r UsageRange) (Series[NotebookPoint], error) {
	from, to, err := s.resolve(r)
	if err != nil {
		return Series[NotebookPoint]{}, err
	}
	first, last, _, err := buckets(from, to, false)
	if err != nil {
		return Series[NotebookPoint]{}, err
	}
	hours, err := s.store.NotebookHours(ctx, me(p), first, last.Add(23*time.Hour))
	if err != nil {
		return Series[NotebookPoint]{}, err
	}
	out := Series[NotebookPoint]{Start: first, End: last.Add(24*time.Hour - time.Millisecond)}
	eachBucket(first, last, 24*time.Hour, hours, func(h accountd.NotebookHour) time.Time { return h.Hour },
		func(day time.Time, in []accountd.NotebookHour) {
			pt := NotebookPoint{At: day}
			for _, h := range in {
				pt.Minutes += h.Minutes
				pt.Completed += h.Completed
				pt.Canceled += h.Canceled
				pt.Errored += h.Errored
				pt.TimedOut += h.TimedOut
			}
			out.Points = append(out.Points, pt)
		})
	return out, nil
}
