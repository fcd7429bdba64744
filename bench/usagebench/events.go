package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/accountd/accountd/bench/internal/benchkit"
)

// Payload types and sources. Billability follows the spec: deviceConnect,
// deviceDisconnect and flowError are counted but not billable.
var nonBillable = []string{"deviceConnect", "deviceDisconnect", "flowError"}

// allPayloadTypes are the 19 keys GET /me/payloadCounts must carry.
var allPayloadTypes = []string{
	"appFile", "dataTable", "deviceCreate", "deviceCommand", "deviceConnect", "deviceDisconnect",
	"deviceState", "endpoint", "event", "flowError", "inboundEmail", "integration", "mqttIn",
	"mqttOut", "notebook", "resourceJob", "timer", "virtualButton", "webhook",
}

// ingestMix is what the ingest run sends, in turn: mostly billable
// traffic, and one non-billable type.
var ingestMix = []typeSource{
	{"mqttIn", "mqtt"}, {"mqttOut", "mqtt"}, {"deviceState", "rest"}, {"deviceState", "mqtt"},
	{"webhook", "webhook"}, {"endpoint", "endpoint"}, {"event", "flow"}, {"timer", "flow"},
	{"integration", "integration"}, {"deviceConnect", "mqtt"},
}

// seedTypes are the types the one-year seed records, from source
// seedSource (which the ingest run never uses, so both can be checked
// apart).
var seedTypes = []string{"mqttIn", "deviceState"}

const seedSource = "seed"

type typeSource struct{ typ, source string }

func billable(typ string) bool { return !slices.Contains(nonBillable, typ) }

// tally counts payloads by type and source.
type tally map[typeSource]int64

func (t tally) add(o tally) {
	for k, v := range o {
		t[k] += v
	}
}

func (t tally) total(billableOnly bool) int64 {
	var n int64
	for k, v := range t {
		if !billableOnly || billable(k.typ) {
			n += v
		}
	}
	return n
}

// appendEvent appends one payload event's JSON.
func appendEvent(b []byte, id string, idNum int64, at int64, app, typ, source string, count, size int64) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = strconv.AppendInt(b, idNum, 36)
	b = append(b, `","kind":"payload","time":`...)
	b = strconv.AppendInt(b, at, 10)
	b = append(b, `,"applicationId":"`...)
	b = append(b, app...)
	b = append(b, `","type":"`...)
	b = append(b, typ...)
	b = append(b, `","source":"`...)
	b = append(b, source...)
	b = append(b, `","count":`...)
	b = strconv.AppendInt(b, count, 10)
	if size > 0 {
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, size, 10)
	}
	return append(b, '}')
}

// ingestAnswer is POST /usage/events' answer.
type ingestAnswer struct {
	Received   *int64 `json:"received"`
	Recorded   *int64 `json:"recorded"`
	Duplicates *int64 `json:"duplicates"`
}

func parseIngestAnswer(raw []byte, want int) (ingestAnswer, error) {
	var a ingestAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, fmt.Errorf("answer %q: %v", trunc(raw), err)
	}
	if a.Received == nil || a.Recorded == nil || a.Duplicates == nil {
		return a, fmt.Errorf("answer %q lacks received, recorded or duplicates", trunc(raw))
	}
	if *a.Received != int64(want) || *a.Recorded+*a.Duplicates != *a.Received {
		return a, fmt.Errorf("sent %d events, answer %s", want, trunc(raw))
	}
	return a, nil
}

func trunc(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// ingest drives POST /usage/events with fresh events: unique ids, the
// current time, spread over the applications and over ingestMix.
type ingest struct {
	url   string
	key   string
	apps  []string
	batch int
	run   string // makes ids unique to this run

	mu   sync.Mutex
	sent tally // payloads of the batches answered 200 with every event recorded
}

// worker is a benchkit.NewDoFunc: load goroutine w's batches, with ids
// of their own.
func (in *ingest) worker(_ context.Context, w int) (benchkit.DoFunc, error) {
	prefix := fmt.Sprintf("i%s-%d-", in.run, w)
	var seq int64
	counts := make([]int64, len(ingestMix))
	return func(ctx context.Context, tr *http.Transport) (int64, error) {
		seq++
		clear(counts)
		now := time.Now().UnixMilli()
		// A fresh buffer: the transport may still be reading the last one.
		b := make([]byte, 0, in.batch*190+16)
		b = append(b, `{"events":[`...)
		for j := range in.batch {
			if j > 0 {
				b = append(b, ',')
			}
			g := seq*int64(in.batch) + int64(j)
			k := int(g % int64(len(ingestMix)))
			ts := ingestMix[k]
			app := in.apps[int((g/int64(len(ingestMix))+int64(w)*7)%int64(len(in.apps)))]
			b = appendEvent(b, prefix, g, now, app, ts.typ, ts.source, 1, 40+g%400)
			counts[k]++
		}
		b = append(b, "]}"...)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, bytes.NewReader(b))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+in.key)
		var recorded int64
		err = benchkit.RoundTrip(tr, req, func(raw []byte) error {
			a, err := parseIngestAnswer(raw, in.batch)
			if err != nil {
				return err
			}
			if *a.Recorded != int64(in.batch) {
				return fmt.Errorf("fresh ids, yet only %d of %d events recorded", *a.Recorded, in.batch)
			}
			recorded = *a.Recorded
			return nil
		})
		if err != nil {
			return 0, err
		}
		in.mu.Lock()
		for k, n := range counts {
			in.sent[ingestMix[k]] += n
		}
		in.mu.Unlock()
		return recorded, nil
	}, nil
}
