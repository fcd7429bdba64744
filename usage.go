package accountd

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Usage metering. Usage is recorded against the owner of the application it
// happens in (a user or an organization) at the moment it is recorded, and
// kept only as per-hour sums: moving an application moves its future usage,
// and deleting it does not erase what it used.

// PayloadTypes are the payload types of payloadStats.json, in its order.
var PayloadTypes = []string{
	"appFile", "dataTable", "deviceCreate", "deviceCommand", "deviceConnect", "deviceDisconnect",
	"deviceState", "endpoint", "event", "flowError", "inboundEmail", "integration", "mqttIn",
	"mqttOut", "notebook", "resourceJob", "timer", "virtualButton", "webhook",
}

// NonBillablePayloadTypes are counted and reported but left out of
// billable totals: connection bookkeeping and the platform's own error
// reports, which a user does not send.
var NonBillablePayloadTypes = []string{"deviceConnect", "deviceDisconnect", "flowError"}

// BillablePayloadTypes are PayloadTypes without NonBillablePayloadTypes.
var BillablePayloadTypes = func() []string {
	var out []string
	for _, t := range PayloadTypes {
		if !slices.Contains(NonBillablePayloadTypes, t) {
			out = append(out, t)
		}
	}
	return out
}()

// Notebook run outcomes, as notebookMinuteCounts.json names them.
var NotebookStatuses = []string{"completed", "canceled", "errored", "timeout"}

// Usage event kinds.
const (
	UsagePayload     = "payload"
	UsageNotebookRun = "notebookRun"
)

// Limits of a usage event's fields.
const (
	MaxUsageIDLen     = 128
	MaxUsageSourceLen = 64
	// MaxUsageCount bounds one event's count and bytes, so that sums cannot
	// overflow however many events arrive.
	MaxUsageCount = 1 << 40
	// MaxUsageFuture is how far ahead of the server's clock an event's time
	// may be.
	MaxUsageFuture = time.Hour
)

// UsageEvent is one report of usage: payloads of a type from a source
// (Count of them, Bytes in all), or one notebook run (Minutes, Status).
// Events carry an ID so that a retried report is recorded once; events
// accountd makes itself (device.sendState) have none.
type UsageEvent struct {
	ID            string
	Kind          string // UsagePayload or UsageNotebookRun
	Time          time.Time
	ApplicationID string

	Type   string // payload type (PayloadTypes)
	Source string // what sent it, e.g. "mqtt", "rest", "flow"
	Count  int64
	Bytes  int64

	Minutes int64 // whole minutes the notebook ran, rounded up
	Status  string
}

// Validate checks an event against its kind's rules; field names the event
// in messages (e.g. "events[3]").
func (e *UsageEvent) Validate(field string, now time.Time) error {
	f := func(name string) string { return field + "." + name }
	if e.ID == "" || utf8.RuneCountInString(e.ID) > MaxUsageIDLen {
		return Invalid(f("id"), "must be 1 to %d characters", MaxUsageIDLen)
	}
	if !ValidID(e.ApplicationID) {
		return Invalid(f("applicationId"), "must be 24 hex characters")
	}
	if e.Time.IsZero() || e.Time.Before(time.UnixMilli(0)) {
		return Invalid(f("time"), "is required, in milliseconds since the epoch")
	}
	if e.Time.After(now.Add(MaxUsageFuture)) {
		return Invalid(f("time"), "must not be more than an hour ahead of the server's clock")
	}
	switch e.Kind {
	case UsagePayload:
		if !slices.Contains(PayloadTypes, e.Type) {
			return Invalid(f("type"), "must be one of %s", strings.Join(PayloadTypes, ", "))
		}
		if e.Source == "" || utf8.RuneCountInString(e.Source) > MaxUsageSourceLen {
			return Invalid(f("source"), "must be 1 to %d characters", MaxUsageSourceLen)
		}
		if e.Count < 1 || e.Count > MaxUsageCount {
			return Invalid(f("count"), "must be between 1 and %d", int64(MaxUsageCount))
		}
		if e.Bytes < 0 || e.Bytes > MaxUsageCount {
			return Invalid(f("bytes"), "must be between 0 and %d", int64(MaxUsageCount))
		}
	case UsageNotebookRun:
		if !slices.Contains(NotebookStatuses, e.Status) {
			return Invalid(f("status"), "must be one of %s", strings.Join(NotebookStatuses, ", "))
		}
		if e.Minutes < 0 || e.Minutes > MaxUsageCount {
			return Invalid(f("minutes"), "must be between 0 and %d", int64(MaxUsageCount))
		}
	default:
		return Invalid(f("kind"), "must be %s or %s", UsagePayload, UsageNotebookRun)
	}
	return nil
}

// OwnerRef names a user or an organization that owns applications.
type OwnerRef struct {
	Type string // OwnerUser or OwnerOrg
	ID   string
}

// UsageRecord is an event with the owner it is recorded against.
type UsageRecord struct {
	UsageEvent
	Owner OwnerRef
}

// Hour and Day truncate t to the start of its UTC hour or day.
func Hour(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }
func Day(t time.Time) time.Time  { return t.UTC().Truncate(24 * time.Hour) }

// PayloadTotal is the usage of one payload type from one source.
type PayloadTotal struct {
	Type, Source string
	Count, Bytes int64
}

// PayloadBucket is the payload usage of one hour or one day.
type PayloadBucket struct {
	At           time.Time
	Count, Bytes int64
}

// DeviceHour is how an owner's devices changed in one hour: Created and
// Deleted count devices made and removed, Net also counts applications
// moving to or from the owner with their devices.
type DeviceHour struct {
	Hour                  time.Time
	Created, Deleted, Net int64
}

// NotebookHour is an owner's notebook runs in one hour.
type NotebookHour struct {
	Hour                                   time.Time
	Minutes                                int64
	Completed, Canceled, Errored, TimedOut int64
}

// UsageStore keeps usage as hourly sums per owner (and daily sums of
// payloads, so that long ranges read few rows). It is part of Store.
type UsageStore interface {
	// RecordUsage adds the records to the sums in one transaction, skipping
	// records whose ID was recorded before (or earlier in the same batch);
	// records without an ID are always added. It returns how many records
	// were added.
	RecordUsage(ctx context.Context, recs []UsageRecord, at time.Time) (int, error)
	// AppendUsage records payload records without IDs (device states) as
	// rows of their own, summed per owner, hour, type and source, in one
	// statement: it conflicts with no other write, so concurrent calls
	// commit side by side instead of queueing on the sums' rows. Every read
	// below counts appended rows at once, as if they were in the sums.
	AppendUsage(ctx context.Context, recs []UsageRecord) error
	// FoldUsage moves up to limit appended rows, oldest first, into the
	// sums in one transaction, and says how many it moved. Concurrent
	// folders (on other instances too) take different rows: nothing is
	// counted twice or lost.
	FoldUsage(ctx context.Context, limit int) (int, error)
	// ForgetUsageIDs drops the IDs recorded before before: a retry of those
	// events would be counted again.
	ForgetUsageIDs(ctx context.Context, before time.Time) error
	// ApplicationOwners maps each existing application id to its owner;
	// unknown ids are left out.
	ApplicationOwners(ctx context.Context, ids []string) (map[string]OwnerRef, error)

	// PayloadTotals sums payloads by type and source over the hours from
	// from through to (both hour starts, inclusive).
	PayloadTotals(ctx context.Context, o OwnerRef, from, to time.Time) ([]PayloadTotal, error)
	// PayloadSeries sums payloads of the given types per hour (daily
	// false) or per UTC day, from through to inclusive (bucket starts);
	// buckets without usage are left out.
	PayloadSeries(ctx context.Context, o OwnerRef, from, to time.Time, daily bool, types []string) ([]PayloadBucket, error)
	// DeviceHours returns the net change of the owner's devices before
	// from, and the hours from from through to that have changes.
	DeviceHours(ctx context.Context, o OwnerRef, from, to time.Time) (before int64, hours []DeviceHour, err error)
	// NotebookHours returns the hours from from through to with runs.
	NotebookHours(ctx context.Context, o OwnerRef, from, to time.Time) ([]NotebookHour, error)
}
