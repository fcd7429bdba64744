package httpapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

// maxUsageBody is the body limit of usage reports (at least): a full batch
// of 10,000 events.
const maxUsageBody = 16 << 20

// serviceActions are served to platform services holding a usage key, not
// to users: no user token is ever granted them.
var serviceActions = map[string]bool{"usage.record": true}

// usageServiceKey carries the name of the usage key a request came with.
type usageServiceKey struct{}

// authenticateService checks the usage key a platform service presents.
func (s *Server) authenticateService(r *http.Request) (string, error) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", accountd.Errorf(accountd.CodeUnauthorized, "a usage key is required (Authorization: Bearer <key>)")
	}
	name, ok := s.svc.UsageKeyName(strings.TrimSpace(key))
	if !ok {
		return "", accountd.Errorf(accountd.CodeUnauthorized, "the usage key is not valid")
	}
	return name, nil
}

// usageEventBody is one event as services send it.
type usageEventBody struct {
	ID            string  `json:"id"`
	Kind          string  `json:"kind"`
	Time          *int64  `json:"time"`
	ApplicationID string  `json:"applicationId"`
	Type          string  `json:"type"`
	Source        string  `json:"source"`
	Count         *int64  `json:"count"`
	Bytes         int64   `json:"bytes"`
	Minutes       float64 `json:"minutes"`
	Status        string  `json:"status"`
}

// UsageEvent converts the wire form: count defaults to 1, minutes are
// rounded up to whole minutes.
func (b *usageEventBody) event() accountd.UsageEvent {
	e := accountd.UsageEvent{ID: b.ID, Kind: b.Kind, ApplicationID: b.ApplicationID,
		Type: b.Type, Source: b.Source, Count: 1, Bytes: b.Bytes, Status: b.Status}
	if b.Time != nil { // left zero when missing, which Validate refuses
		e.Time = time.UnixMilli(*b.Time).UTC()
	}
	if b.Count != nil {
		e.Count = *b.Count
	}
	if b.Kind == accountd.UsageNotebookRun {
		switch {
		case b.Minutes < 0: // out of range either way: Validate says so
			e.Minutes = -1
		case b.Minutes > accountd.MaxUsageCount:
			e.Minutes = accountd.MaxUsageCount + 1
		default:
			e.Minutes = int64(math.Ceil(b.Minutes))
		}
	}
	return e
}

// ParseUsageEvent reads one event in its wire form (as POST /usage/events
// and `accountd usage import` take it), checking only that it is a JSON
// object of the right shape; RecordUsage checks the rest. label names the
// event in errors.
func ParseUsageEvent(raw []byte, label string) (accountd.UsageEvent, error) {
	var b usageEventBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return accountd.UsageEvent{}, accountd.Invalid(label, "must be an object with id, kind, time, applicationId and the kind's fields (%s)", jsonProblem(err))
	}
	if dec.More() {
		return accountd.UsageEvent{}, accountd.Invalid(label, "must be a single JSON object")
	}
	return b.event(), nil
}

// jsonProblem describes a decoding error without echoing Go types.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return "got " + typeErr.Value
	case errors.As(err, &typeErr):
		return typeErr.Field + " has the wrong type"
	case errors.As(err, &syntaxErr):
		return "not valid JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "not valid JSON"
}

// recordUsage decodes reports by hand rather than through the generic
// schema check: profiling showed that check to be most of the cost of
// ingest, and RecordUsage checks every field the schema would.
func (s *Server) recordUsage(w http.ResponseWriter, r *http.Request) error {
	raw, err := readRaw(r)
	if err != nil {
		return err
	}
	var b struct {
		Events []json.RawMessage `json:"events"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || dec.More() {
		return accountd.Invalid("body", `must be {"events": [event, ...]}`)
	}
	if len(b.Events) == 0 {
		return accountd.Invalid("events", "must hold at least one event")
	}
	if len(b.Events) > service.MaxUsageBatch {
		return accountd.Invalid("events", "must hold at most %d events", service.MaxUsageBatch)
	}
	events := make([]accountd.UsageEvent, len(b.Events))
	for i, e := range b.Events {
		if events[i], err = ParseUsageEvent(e, "events["+strconv.Itoa(i)+"]"); err != nil {
			return err
		}
	}
	res, err := s.svc.RecordUsage(r.Context(), events, nil)
	if err != nil {
		return err
	}
	name, _ := r.Context().Value(usageServiceKey{}).(string)
	s.metrics.usage.WithLabelValues(name, "recorded").Add(float64(res.Recorded))
	s.metrics.usage.WithLabelValues(name, "duplicate").Add(float64(res.Received - res.Recorded))
	writeJSON(w, http.StatusOK, map[string]int{
		"received": res.Received, "recorded": res.Recorded, "duplicates": res.Received - res.Recorded})
	return nil
}

// sendState counts each state of the body as a payload of its compact
// JSON's size. Each state must keep the deviceState schema, and its time,
// when given, must be a time.
func (s *Server) sendState(w http.ResponseWriter, r *http.Request) error {
	appID, err := pathID(r, "applicationId")
	if err != nil {
		return err
	}
	deviceID, err := pathID(r, "deviceId")
	if err != nil {
		return err
	}
	raw, doc, err := readBody(r)
	if err != nil {
		return err
	}
	// Each state is checked on its own, so that an error names the state
	// and the field rather than saying the body matches neither form.
	states, docs := []json.RawMessage{raw}, []any{doc}
	list, isArray := doc.([]any)
	if isArray {
		if err := json.Unmarshal(raw, &states); err != nil {
			return accountd.Invalid("deviceState", "is not valid JSON")
		}
		docs = list
		if len(states) == 0 {
			return accountd.Invalid("deviceState", "must hold at least one state")
		}
	}
	sizes := make([]int64, len(states))
	var buf bytes.Buffer
	for i, st := range states {
		field := "deviceState"
		if isArray {
			field = "deviceState[" + strconv.Itoa(i) + "]"
		}
		if err := s.checkState(docs[i], field); err != nil {
			return err
		}
		if err := checkStateTime(st, field); err != nil {
			return err
		}
		buf.Reset()
		if err := json.Compact(&buf, st); err != nil {
			return accountd.Invalid(field, "is not valid JSON")
		}
		sizes[i] = int64(buf.Len())
	}
	if err := s.svc.SendState(r.Context(), principal(r), appID, deviceID, sizes); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, success)
	return nil
}

// checkState holds one state to the deviceState schema, naming it field.
func (s *Server) checkState(doc any, field string) error {
	err := s.schemas.validate("deviceState", doc)
	var e *accountd.Error
	if !errors.As(err, &e) || e.Code != accountd.CodeInvalid {
		return err
	}
	name := field
	if e.Field != "" {
		name += "." + e.Field
	}
	return accountd.Invalid(name, "%s", strings.TrimPrefix(e.Message, cmp.Or(e.Field, "body")+": "))
}

// checkStateTime checks a state's time: milliseconds since the epoch, an
// ISO-8601 date, or {"$date": ISO-8601 date}.
func checkStateTime(state json.RawMessage, field string) error {
	var st struct {
		Time json.RawMessage `json:"time"`
	}
	if err := json.Unmarshal(state, &st); err != nil || len(st.Time) == 0 || string(st.Time) == "null" {
		return nil
	}
	bad := accountd.Invalid(field+".time", "must be milliseconds since the epoch, an ISO-8601 date or {\"$date\": ISO-8601 date}")
	var (
		ms   float64
		text string
		obj  struct {
			Date string `json:"$date"`
		}
	)
	switch {
	case json.Unmarshal(st.Time, &ms) == nil:
		if ms < 0 || math.IsInf(ms, 0) || ms > 1e15 {
			return bad
		}
		return nil
	case json.Unmarshal(st.Time, &text) == nil:
	case json.Unmarshal(st.Time, &obj) == nil:
		text = obj.Date
	default:
		return bad
	}
	if _, err := time.Parse(time.RFC3339Nano, text); err != nil {
		return bad
	}
	return nil
}

// usageRange reads start and end (milliseconds since the epoch).
func usageRange(r *http.Request) (service.UsageRange, error) {
	var out service.UsageRange
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"start", &out.Start}, {"end", &out.End}} {
		v := strings.TrimSpace(r.URL.Query().Get(p.name))
		if v == "" {
			continue
		}
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 || ms > 1e15 {
			return out, accountd.Invalid(p.name, "must be milliseconds since the epoch (a whole number, 0 or more)")
		}
		t := time.UnixMilli(ms).UTC()
		*p.dst = &t
	}
	return out, nil
}

// queryBool reads an optional true/false query parameter.
func queryBool(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	default:
		return false, accountd.Invalid(name, "must be true or false")
	}
}

func (s *Server) payloadCounts(w http.ResponseWriter, r *http.Request) error {
	rng, err := usageRange(r)
	if err != nil {
		return err
	}
	asBytes, err := queryBool(r, "asBytes")
	if err != nil {
		return err
	}
	stats, err := s.svc.PayloadCounts(r.Context(), principal(r), rng, asBytes)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stats)
	return nil
}

type seriesBody[T any] struct {
	Start  string `json:"start"`
	End    string `json:"end"`
	Counts []T    `json:"counts"`
}

func series[P, T any](s service.Series[P], conv func(P) T) seriesBody[T] {
	out := seriesBody[T]{Start: accountd.FormatTime(s.Start), End: accountd.FormatTime(s.End), Counts: make([]T, len(s.Points))}
	for i, p := range s.Points {
		out.Counts[i] = conv(p)
	}
	return out
}

func (s *Server) payloadCountsBreakdown(w http.ResponseWriter, r *http.Request) error {
	rng, err := usageRange(r)
	if err != nil {
		return err
	}
	hourly := false
	switch r.URL.Query().Get("resolution") {
	case "", "86400000":
	case "3600000":
		hourly = true
	default:
		return accountd.Invalid("resolution", "must be 86400000 (a day) or 3600000 (an hour)")
	}
	asBytes, err := queryBool(r, "asBytes")
	if err != nil {
		return err
	}
	nonBillable, err := queryBool(r, "includeNonBillable")
	if err != nil {
		return err
	}
	sr, err := s.svc.PayloadBreakdown(r.Context(), principal(r), rng, hourly, asBytes, nonBillable)
	if err != nil {
		return err
	}
	type point struct {
		Date  string `json:"date"`
		Value int64  `json:"value"`
	}
	writeJSON(w, http.StatusOK, series(sr, func(p service.PayloadPoint) point {
		return point{Date: accountd.FormatTime(p.At), Value: p.Value}
	}))
	return nil
}

func (s *Server) deviceCounts(w http.ResponseWriter, r *http.Request) error {
	rng, err := usageRange(r)
	if err != nil {
		return err
	}
	sr, err := s.svc.DeviceCounts(r.Context(), principal(r), rng)
	if err != nil {
		return err
	}
	type point struct {
		Date    string `json:"date"`
		Created int64  `json:"created"`
		Deleted int64  `json:"deleted"`
		Total   int64  `json:"total"`
	}
	writeJSON(w, http.StatusOK, series(sr, func(p service.DevicePoint) point {
		return point{Date: accountd.FormatTime(p.At), Created: p.Created, Deleted: p.Deleted, Total: p.Total}
	}))
	return nil
}

func (s *Server) notebookMinuteCounts(w http.ResponseWriter, r *http.Request) error {
	rng, err := usageRange(r)
	if err != nil {
		return err
	}
	sr, err := s.svc.NotebookMinuteCounts(r.Context(), principal(r), rng)
	if err != nil {
		return err
	}
	type point struct {
		Date      string `json:"date"`
		Minutes   int64  `json:"minutes"`
		Completed int64  `json:"completed"`
		Canceled  int64  `json:"canceled"`
		Errored   int64  `json:"errored"`
		Timeout   int64  `json:"timeout"`
	}
	writeJSON(w, http.StatusOK, series(sr, func(p service.NotebookPoint) point {
		return point{Date: accountd.FormatTime(p.At), Minutes: p.Minutes, Completed: p.Completed,
			Canceled: p.Canceled, Errored: p.Errored, Timeout: p.TimedOut}
	}))
	return nil
}
