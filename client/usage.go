package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Usage metering: what the signed-in user's applications used
// (Me.PayloadCounts and friends), device states sent over REST
// (Device.SendState, which the server counts as payloads), and the ingest
// of usage that platform services report (Usage.Record).

// PayloadStats is payload usage by payload type, then by source: a count of
// payloads, or their bytes. The server answers with every payload type as
// a key; a type without usage maps to an empty map.
type PayloadStats map[string]map[string]float64

// Total sums one payload type over its sources, or every type when
// payloadType is "".
func (p PayloadStats) Total(payloadType string) float64 {
	var n float64
	for t, sources := range p {
		if payloadType != "" && t != payloadType {
			continue
		}
		for _, v := range sources {
			n += v
		}
	}
	return n
}

// UsageQuery is the range of a usage query. Zero times take the server's
// defaults: End is now, Start the first moment of End's UTC month. Times
// go on the wire in whole milliseconds.
type UsageQuery struct {
	Start, End time.Time
	// AsBytes reports bytes instead of counts (payload queries only).
	AsBytes bool
}

func (q UsageQuery) values() url.Values {
	v := url.Values{}
	if !q.Start.IsZero() {
		v.Set("start", strconv.FormatInt(q.Start.UnixMilli(), 10))
	}
	if !q.End.IsZero() {
		v.Set("end", strconv.FormatInt(q.End.UnixMilli(), 10))
	}
	if q.AsBytes {
		v.Set("asBytes", "true")
	}
	return v
}

// BreakdownQuery is the range and shape of Me.PayloadCountsBreakdown.
type BreakdownQuery struct {
	Start, End time.Time // zero: as in UsageQuery
	// Resolution is the bucket size: 24*time.Hour (the default, when 0) or
	// time.Hour. A breakdown answers with at most 40,000 entries (days or
	// hours); a longer range is refused.
	Resolution time.Duration
	AsBytes    bool
	// IncludeNonBillable also counts deviceConnect, deviceDisconnect and
	// flowError payloads.
	IncludeNonBillable bool
}

// UsageSeries is what the per-bucket usage queries answer: one entry per
// bucket, zeros included, in order. Start is the first bucket's start, End
// the last millisecond of the last bucket.
type UsageSeries[T any] struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Counts []T       `json:"counts"`
}

// PayloadBreakdown is payload usage per UTC day or hour.
type PayloadBreakdown = UsageSeries[PayloadBreakdownCount]

// PayloadBreakdownCount is the payloads (or bytes) of one bucket.
type PayloadBreakdownCount struct {
	Date  time.Time `json:"date"` // the bucket's start
	Value int64     `json:"value"`
}

// DeviceCounts is how the user's devices changed, per UTC day.
type DeviceCounts = UsageSeries[DeviceCount]

// DeviceCount is one day of DeviceCounts; Total is the devices the user's
// applications held at the end of the day.
type DeviceCount struct {
	Date    time.Time `json:"date"`
	Created int64     `json:"created"`
	Deleted int64     `json:"deleted"`
	Total   int64     `json:"total"`
}

// NotebookMinuteCounts is the user's notebook runs, per UTC day.
type NotebookMinuteCounts = UsageSeries[NotebookMinuteCount]

// NotebookMinuteCount is one day of notebook runs: the minutes they took
// and how many ended in each way.
type NotebookMinuteCount struct {
	Date      time.Time `json:"date"`
	Minutes   int64     `json:"minutes"`
	Completed int64     `json:"completed"`
	Canceled  int64     `json:"canceled"`
	Errored   int64     `json:"errored"`
	Timeout   int64     `json:"timeout"`
}

// PayloadCounts returns the payload usage of the applications the user owns
// directly, over the whole UTC hours from the one holding q.Start through
// the one holding q.End (GET /me/payloadCounts).
func (s *MeService) PayloadCounts(ctx context.Context, q UsageQuery) (PayloadStats, error) {
	var out PayloadStats
	return out, s.c.do(ctx, "GET", "/me/payloadCounts", q.values(), nil, &out)
}

// PayloadCountsBreakdown returns billable payload usage (all of it with
// q.IncludeNonBillable) per UTC day or hour
// (GET /me/payloadCountsBreakdown).
func (s *MeService) PayloadCountsBreakdown(ctx context.Context, q BreakdownQuery) (*PayloadBreakdown, error) {
	v := UsageQuery{Start: q.Start, End: q.End, AsBytes: q.AsBytes}.values()
	if q.Resolution != 0 {
		v.Set("resolution", strconv.FormatInt(q.Resolution.Milliseconds(), 10))
	}
	if q.IncludeNonBillable {
		v.Set("includeNonBillable", "true")
	}
	var out PayloadBreakdown
	return &out, s.c.do(ctx, "GET", "/me/payloadCountsBreakdown", v, nil, &out)
}

// DeviceCounts returns devices created and deleted per UTC day, with the
// running total (GET /me/deviceCounts). q.AsBytes is ignored.
func (s *MeService) DeviceCounts(ctx context.Context, q UsageQuery) (*DeviceCounts, error) {
	q.AsBytes = false
	var out DeviceCounts
	return &out, s.c.do(ctx, "GET", "/me/deviceCounts", q.values(), nil, &out)
}

// NotebookMinuteCounts returns notebook minutes and run outcomes per UTC
// day (GET /me/notebookMinuteCounts). q.AsBytes is ignored.
func (s *MeService) NotebookMinuteCounts(ctx context.Context, q UsageQuery) (*NotebookMinuteCounts, error) {
	q.AsBytes = false
	var out NotebookMinuteCounts
	return &out, s.c.do(ctx, "GET", "/me/notebookMinuteCounts", q.values(), nil, &out)
}

// SummaryPayloadCount returns summary.payloadCount, the payload counts of
// the current UTC month so far, which GET /me carries when asked with
// MeGetParams{SummaryInclude: []string{"payloadCount"}}; nil when absent.
func (m *Me) SummaryPayloadCount() PayloadStats {
	v, ok := m.Summary["payloadCount"]
	if !ok || v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out PayloadStats
	if json.Unmarshal(raw, &out) != nil {
		return nil
	}
	return out
}

// DeviceState is one state of a device: attribute values at a time.
type DeviceState struct {
	// Time is when the values held; zero lets the server use the time it
	// receives them. It goes on the wire in milliseconds since the epoch.
	Time time.Time
	// Data maps attribute names to numbers, strings or booleans.
	Data map[string]any
	// Meta is anything to keep with the state.
	Meta any
	// FlowVersion names the edge flow version that reported the state.
	FlowVersion string
}

type wireDeviceState struct {
	Time        *int64         `json:"time,omitempty"`
	Data        map[string]any `json:"data"`
	Meta        any            `json:"meta,omitempty"`
	FlowVersion string         `json:"flowVersion,omitempty"`
}

// MarshalJSON writes the state as deviceState.json has it.
func (s DeviceState) MarshalJSON() ([]byte, error) {
	w := wireDeviceState{Data: s.Data, Meta: s.Meta, FlowVersion: s.FlowVersion}
	if w.Data == nil {
		w.Data = map[string]any{}
	}
	if !s.Time.IsZero() {
		ms := s.Time.UnixMilli()
		w.Time = &ms
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads a state in any form the reference accepts: time as
// milliseconds since the epoch, as an RFC 3339 string or as {"$date":
// string}. Unknown fields are refused, as the server would refuse them;
// numbers in data and meta keep their exact text.
func (s *DeviceState) UnmarshalJSON(b []byte) error {
	var w struct {
		Time        json.RawMessage `json:"time"`
		Data        map[string]any  `json:"data"`
		Meta        any             `json:"meta"`
		FlowVersion string          `json:"flowVersion"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("device state: %w", err)
	}
	*s = DeviceState{Data: w.Data, Meta: w.Meta, FlowVersion: w.FlowVersion}
	if len(w.Time) == 0 || string(w.Time) == "null" {
		return nil
	}
	t, err := parseStateTime(w.Time)
	if err != nil {
		return fmt.Errorf("device state: time: %w", err)
	}
	s.Time = t
	return nil
}

func parseStateTime(raw json.RawMessage) (time.Time, error) {
	var str string
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &str); err != nil {
			return time.Time{}, err
		}
	case '{':
		var d struct {
			Date *string `json:"$date"`
		}
		if json.Unmarshal(raw, &d) != nil || d.Date == nil {
			return time.Time{}, fmt.Errorf(`%s is not {"$date": string}`, raw)
		}
		str = *d.Date
	default:
		var ms float64
		if err := json.Unmarshal(raw, &ms); err != nil {
			return time.Time{}, fmt.Errorf("%s is not milliseconds, a date string or {\"$date\": string}", raw)
		}
		return time.UnixMilli(int64(ms)).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, str)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", str)
	}
	return t.UTC(), nil
}

// SendState sends device states (POST
// /applications/{applicationId}/devices/{deviceId}/state): one state goes
// as an object, several as an array (none is sent as an empty array, which
// the server refuses). The server counts each state as one deviceState
// payload from the source "rest", of the size of its compact JSON.
func (s *DeviceService) SendState(ctx context.Context, applicationID, deviceID string, states ...DeviceState) error {
	path, err := childPath(applicationID, "devices", "deviceId", deviceID)
	if err != nil {
		return err
	}
	var body any = states
	if len(states) == 1 {
		body = states[0]
	} else if states == nil {
		body = []DeviceState{}
	}
	return s.c.do(ctx, "POST", path+"/state", nil, body, &Success{})
}

// UsageService reports usage for platform services (POST /usage/events).
// It needs a client whose token is a usage key (WithToken), not a user
// token: only usage keys carry the usage.record scope.
type UsageService struct{ c *Client }

// Usage event kinds.
const (
	UsageKindPayload     = "payload"
	UsageKindNotebookRun = "notebookRun"
)

// UsageEvent is one report of usage: Count payloads of a Type from a
// Source, Bytes in all (Kind "payload"), or one notebook run of Minutes
// ending with Status (Kind "notebookRun"). The server records an ID once:
// a retried event is not counted again.
type UsageEvent struct {
	ID            string
	Kind          string
	Time          time.Time // sent in milliseconds since the epoch
	ApplicationID string

	// payload
	Type   string
	Source string
	Count  int64 // 0: the server's default, 1
	Bytes  int64

	// notebookRun
	Minutes float64 // rounded up to whole minutes by the server
	Status  string  // completed, canceled, errored or timeout
}

// MarshalJSON writes the event as POST /usage/events takes it, leaving out
// fields that are zero and optional (a notebook run always carries its
// minutes).
func (e UsageEvent) MarshalJSON() ([]byte, error) {
	var w struct {
		ID            string   `json:"id"`
		Kind          string   `json:"kind"`
		Time          *int64   `json:"time,omitempty"`
		ApplicationID string   `json:"applicationId"`
		Type          string   `json:"type,omitempty"`
		Source        string   `json:"source,omitempty"`
		Count         int64    `json:"count,omitempty"`
		Bytes         int64    `json:"bytes,omitempty"`
		Minutes       *float64 `json:"minutes,omitempty"`
		Status        string   `json:"status,omitempty"`
	}
	w.ID, w.Kind, w.ApplicationID = e.ID, e.Kind, e.ApplicationID
	w.Type, w.Source, w.Count, w.Bytes, w.Status = e.Type, e.Source, e.Count, e.Bytes, e.Status
	if !e.Time.IsZero() {
		ms := e.Time.UnixMilli()
		w.Time = &ms
	}
	if e.Minutes != 0 || e.Kind == UsageKindNotebookRun {
		m := e.Minutes
		w.Minutes = &m
	}
	return json.Marshal(w)
}

// UsageRecordResult is what Usage.Record did: Duplicates events had been
// recorded before and were not counted again.
type UsageRecordResult struct {
	Received   int `json:"received"`
	Recorded   int `json:"recorded"`
	Duplicates int `json:"duplicates"`
}

// Record reports a batch of 1 to 10000 events (POST /usage/events). It is
// all or nothing: one invalid event, or one of an unknown application,
// fails the batch with a Validation error naming it ("events[3].type: ...")
// and nothing is recorded, so the batch can be fixed and sent again.
func (s *UsageService) Record(ctx context.Context, events []UsageEvent) (*UsageRecordResult, error) {
	if events == nil {
		events = []UsageEvent{}
	}
	body := struct {
		Events []UsageEvent `json:"events"`
	}{events}
	var out UsageRecordResult
	return &out, s.c.do(ctx, "POST", "/usage/events", nil, body, &out)
}
