package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func TestSeedPlan(t *testing.T) {
	apps := make([]string, 3)
	for i := range apps {
		apps[i] = fmt.Sprintf("%024x", i+1)
	}
	now := time.Date(2026, 11, 23, 10, 20, 0, 0, time.UTC)
	p := newSeedPlan(apps, 2, 5, 7, "r", now)
	if p.hours != 48 || p.events() != 48*3*2 || p.payloads() != 48*3*2*5 {
		t.Fatalf("plan: %d hours, %d events, %d payloads", p.hours, p.events(), p.payloads())
	}
	if want := time.Date(2026, 11, 21, 11, 0, 0, 0, time.UTC); !p.first.Equal(want) {
		t.Fatalf("first = %v, want %v", p.first, want)
	}
	type event struct {
		ID, Kind, ApplicationID, Type, Source string
		Time, Count                           int64
	}
	ids := map[string]bool{}
	perHour := map[time.Time]int64{}
	var total int64
	for b := range p.batches() {
		raw, n := p.body(b)
		var body struct{ Events []event }
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
		if len(body.Events) != n || n < 1 || n > p.batch {
			t.Fatalf("batch %d: %d events, said %d", b, len(body.Events), n)
		}
		for _, e := range body.Events {
			if ids[e.ID] {
				t.Fatalf("duplicate id %s", e.ID)
			}
			ids[e.ID] = true
			at := time.UnixMilli(e.Time).UTC()
			if at.Before(p.first) || at.After(now) || e.Kind != "payload" || e.Source != seedSource || e.Count != 5 {
				t.Fatalf("bad event %+v", e)
			}
			perHour[at.Truncate(time.Hour)] += e.Count
			total += e.Count
		}
	}
	if total != p.payloads() || len(perHour) != p.hours {
		t.Fatalf("%d payloads over %d hours", total, len(perHour))
	}
	for h, n := range perHour {
		if n != p.perHour()*p.count {
			t.Fatalf("hour %v: %d payloads", h, n)
		}
	}
	if got := p.expected().total(false); got != p.payloads() {
		t.Fatalf("expected() = %d", got)
	}
	for _, c := range []struct {
		since time.Time
		hours int64
	}{
		{p.first.Add(-time.Hour), 48}, {p.first, 48}, {p.first.Add(time.Minute), 47},
		{p.first.Add(47 * time.Hour), 1}, {now, 0},
	} {
		if got := p.payloadsSince(c.since); got != c.hours*p.perHour()*p.count {
			t.Errorf("payloadsSince(%v) = %d, want %d hours", c.since, got, c.hours)
		}
	}
}
