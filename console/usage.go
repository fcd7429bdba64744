package console

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

type usageRange struct{ Value, Label string }

var usageRanges = []usageRange{{"month", "This month"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"}, {"90d", "Last 90 days"}, {"365d", "Last 365 days"}}

type typeCount struct {
	Type    string
	Count   int64
	Share   float64 // of the largest, 0..1
	Sources string
}

type usagePage struct {
	Range    string
	Ranges   []usageRange
	Start    time.Time
	End      time.Time
	Payloads template.HTML
	Total    int64
	ByType   []typeCount
	Devices  template.HTML
	Created  int64
	Deleted  int64
	Now      int64
	Notebook template.HTML
	Minutes  int64
	Runs     int64
}

func (c *Console) usage(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	ctx := r.Context()
	sel := r.URL.Query().Get("range")
	if !slices.ContainsFunc(usageRanges, func(u usageRange) bool { return u.Value == sel }) {
		sel = "month"
	}
	var rg service.UsageRange
	if sel != "month" {
		var days int
		fmt.Sscanf(sel, "%dd", &days)
		end := c.svc.Now().UTC()
		start := accountd.Day(end).AddDate(0, 0, -(days - 1))
		rg = service.UsageRange{Start: &start, End: &end}
	}
	series, err := c.svc.PayloadBreakdown(ctx, s.p, rg, false, false, false)
	if err != nil {
		return err
	}
	stats, err := c.svc.PayloadCounts(ctx, s.p, rg, false)
	if err != nil {
		return err
	}
	devices, err := c.svc.DeviceCounts(ctx, s.p, rg)
	if err != nil {
		return err
	}
	notebooks, err := c.svc.NotebookMinuteCounts(ctx, s.p, rg)
	if err != nil {
		return err
	}
	pg := usagePage{Range: sel, Ranges: usageRanges, Start: series.Start, End: series.End}
	bars := make([]bar, len(series.Points))
	for i, p := range series.Points {
		bars[i] = bar{At: p.At, Value: p.Value}
		pg.Total += p.Value
	}
	pg.Payloads = barChart("Payloads per day", "payloads", bars)
	var most int64
	for _, t := range accountd.PayloadTypes {
		tc := typeCount{Type: t}
		var srcs []string
		for src, n := range stats[t] {
			tc.Count += n
			if n > 0 {
				srcs = append(srcs, fmt.Sprintf("%s %s", src, formatCount(n)))
			}
		}
		if tc.Count == 0 {
			continue
		}
		slices.Sort(srcs)
		tc.Sources = strings.Join(srcs, ", ")
		most = max(most, tc.Count)
		pg.ByType = append(pg.ByType, tc)
	}
	for i := range pg.ByType {
		pg.ByType[i].Share = float64(pg.ByType[i].Count) / float64(most)
	}
	slices.SortStableFunc(pg.ByType, func(a, b typeCount) int { return int(b.Count - a.Count) })
	bars = make([]bar, len(devices.Points))
	for i, p := range devices.Points {
		bars[i] = bar{At: p.At, Value: p.Total}
		pg.Created += p.Created
		pg.Deleted += p.Deleted
		pg.Now = p.Total
	}
	pg.Devices = barChart("Devices at the end of each day", "devices", bars)
	bars = make([]bar, len(notebooks.Points))
	for i, p := range notebooks.Points {
		bars[i] = bar{At: p.At, Value: p.Minutes}
		pg.Minutes += p.Minutes
		pg.Runs += p.Completed + p.Canceled + p.Errored + p.TimedOut
	}
	pg.Notebook = barChart("Notebook minutes per day", "minutes", bars)
	v.Title, v.Nav, v.Page = "Usage", "usage", pg
	c.render(w, r, http.StatusOK, "usage", v)
	return nil
}

type bar struct {
	At    time.Time
	Value int64
}

// barChart draws one bar per day as SVG, with a title per bar for
// pointers and screen readers, and the scale's top and the first and last
// days as labels. Colours come from the stylesheet (classes), so the page
// needs no inline style.
func barChart(title, unit string, bars []bar) template.HTML {
	const (
		w, h           = 720.0, 200.0
		left, bottom   = 48.0, 24.0
		top            = 8.0
		plotW, plotH   = w - left - 8, h - bottom - top
		gapRatio       = 0.2
		maxTickLabelCh = 12
	)
	var most int64
	for _, b := range bars {
		most = max(most, b.Value)
	}
	scale := max(niceCeil(most), 1)
	var sb strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&sb, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" role="img" aria-label="%s">`, w, h, esc(title))
	// grid lines at 0, half and the top of the scale
	for _, f := range []float64{0, 0.5, 1} {
		y := top + plotH*(1-f)
		fmt.Fprintf(&sb, `<line class="grid" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, left, y, w-8, y)
		if f == 0.5 && scale%2 != 0 {
			continue // a half that is no whole number goes unlabelled
		}
		fmt.Fprintf(&sb, `<text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, left-6, y+4, esc(formatCount(int64(float64(scale)*f))))
	}
	if n := len(bars); n > 0 {
		slot := plotW / float64(n)
		bw := slot * (1 - gapRatio)
		for i, b := range bars {
			bh := plotH * float64(b.Value) / float64(scale)
			if b.Value > 0 && bh < 1 {
				bh = 1
			}
			x := left + slot*float64(i) + (slot-bw)/2
			fmt.Fprintf(&sb, `<rect class="bar" x="%.2f" y="%.2f" width="%.2f" height="%.2f"><title>%s: %s %s</title></rect>`,
				x, top+plotH-bh, bw, bh, b.At.UTC().Format("2 Jan 2006"), esc(formatCount(b.Value)), esc(unit))
		}
		label := func(i int, anchor string) {
			x := left + slot*(float64(i)+0.5)
			fmt.Fprintf(&sb, `<text class="tick" x="%.1f" y="%g" text-anchor="%s">%s</text>`, x, h-6, anchor, bars[i].At.UTC().Format("2 Jan"))
		}
		label(0, "start")
		if n > 1 {
			label(n-1, "end")
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, so the scale's
// labels are round.
func niceCeil(n int64) int64 {
	if n <= 0 {
		return 0
	}
	p := int64(1)
	for {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
		p *= 10
	}
}
