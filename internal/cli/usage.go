package cli

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/spf13/cobra"
)

// usageCmd is the `usage` group. Its client subcommands read the signed-in
// user's usage (/me/payloadCounts and friends); each registers the remote
// flags itself rather than on the group, so operator subcommands that work
// on the database (usage import, usage keygen) can join the group without
// inheriting --server and --output.
func usageCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Usage metering: payloads, devices and notebook minutes of your applications",
	}
	for _, sub := range []*cobra.Command{usagePayloadsCmd(f), usageBreakdownCmd(f), usageDevicesCmd(f), usageNotebooksCmd(f)} {
		f.register(sub)
		cmd.AddCommand(sub)
	}
	// operator subcommands, on the database directly (usageops.go)
	cmd.AddCommand(usageImportCmd(), usageKeygenCmd())
	return cmd
}

// timeFlag is a --start or --end: RFC 3339 (a date alone means its UTC
// midnight) or milliseconds since the epoch. Unset, it stays zero and the
// server picks.
type timeFlag struct{ t *time.Time }

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return fmtTime(*f.t)
}

func (f timeFlag) Set(s string) error {
	t, err := parseTimeArg(s)
	if err != nil {
		return err
	}
	*f.t = t
	return nil
}

func (timeFlag) Type() string { return "time" }

func parseTimeArg(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a date (2006-01-02) or milliseconds since the epoch", s)
}

// rangeFlags adds --start and --end to cmd.
func rangeFlags(cmd *cobra.Command, start, end *time.Time) {
	cmd.Flags().Var(timeFlag{start}, "start", "from this time: RFC 3339, a date, or ms since the epoch (default: the first moment of --end's UTC month)")
	cmd.Flags().Var(timeFlag{end}, "end", "through this time: RFC 3339, a date, or ms since the epoch (default: now)")
}

func fmtDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func fmtNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func usagePayloadsCmd(f *remoteFlags) *cobra.Command {
	var q client.UsageQuery
	cmd := remoteCmd(f, "payloads", "Payloads by type and source (GET /me/payloadCounts)", cobra.NoArgs,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			stats, err := c.Me.PayloadCounts(cmd.Context(), q)
			if err != nil {
				return err
			}
			unit := "COUNT"
			if q.AsBytes {
				unit = "BYTES"
			}
			return f.print(cmd.OutOrStdout(), stats, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "TYPE\tSOURCE\t%s\n", unit)
				for _, typ := range slices.Sorted(maps.Keys(stats)) {
					sources := stats[typ]
					for _, src := range slices.Sorted(maps.Keys(sources)) {
						fmt.Fprintf(tw, "%s\t%s\t%s\n", typ, src, fmtNumber(sources[src]))
					}
				}
				fmt.Fprintf(tw, "TOTAL\t\t%s\n", fmtNumber(stats.Total("")))
			})
		})
	rangeFlags(cmd, &q.Start, &q.End)
	cmd.Flags().BoolVar(&q.AsBytes, "bytes", false, "report bytes instead of counts")
	return cmd
}

func usageBreakdownCmd(f *remoteFlags) *cobra.Command {
	var q client.BreakdownQuery
	var hourly, zeros bool
	cmd := remoteCmd(f, "breakdown", "Billable payloads per UTC day, or hour (GET /me/payloadCountsBreakdown)", cobra.NoArgs,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			date := fmtDay
			if hourly {
				q.Resolution, date = time.Hour, fmtTime
			}
			b, err := c.Me.PayloadCountsBreakdown(cmd.Context(), q)
			if err != nil {
				return err
			}
			unit := "PAYLOADS"
			if q.AsBytes {
				unit = "BYTES"
			}
			return f.print(cmd.OutOrStdout(), b, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "DATE\t%s\n", unit)
				var total int64
				for _, n := range b.Counts {
					if n.Value != 0 || zeros {
						fmt.Fprintf(tw, "%s\t%d\n", date(n.Date), n.Value)
					}
					total += n.Value
				}
				fmt.Fprintf(tw, "TOTAL\t%d\n", total)
			})
		})
	rangeFlags(cmd, &q.Start, &q.End)
	fs := cmd.Flags()
	fs.BoolVar(&hourly, "hourly", false, "one row per UTC hour instead of per day (a range of at most 40000 hours)")
	fs.BoolVar(&zeros, "zeros", false, "show days (or hours) without payloads too; -o json always has them")
	fs.BoolVar(&q.AsBytes, "bytes", false, "report bytes instead of counts")
	fs.BoolVar(&q.IncludeNonBillable, "non-billable", false, "also count deviceConnect, deviceDisconnect and flowError payloads")
	return cmd
}

func usageDevicesCmd(f *remoteFlags) *cobra.Command {
	var q client.UsageQuery
	var zeros bool
	cmd := remoteCmd(f, "devices", "Devices created and deleted per UTC day, with the total (GET /me/deviceCounts)", cobra.NoArgs,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			d, err := c.Me.DeviceCounts(cmd.Context(), q)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), d, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "DATE\tCREATED\tDELETED\tTOTAL")
				for _, n := range d.Counts {
					if n.Created != 0 || n.Deleted != 0 || zeros {
						fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", fmtDay(n.Date), n.Created, n.Deleted, n.Total)
					}
				}
				if len(d.Counts) > 0 {
					fmt.Fprintf(tw, "AT END\t\t\t%d\n", d.Counts[len(d.Counts)-1].Total)
				}
			})
		})
	rangeFlags(cmd, &q.Start, &q.End)
	cmd.Flags().BoolVar(&zeros, "zeros", false, "show days without a device created or deleted too; -o json always has them")
	return cmd
}

func usageNotebooksCmd(f *remoteFlags) *cobra.Command {
	var q client.UsageQuery
	var zeros bool
	cmd := remoteCmd(f, "notebooks", "Notebook minutes and run outcomes per UTC day (GET /me/notebookMinuteCounts)", cobra.NoArgs,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			nb, err := c.Me.NotebookMinuteCounts(cmd.Context(), q)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), nb, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "DATE\tMINUTES\tCOMPLETED\tCANCELED\tERRORED\tTIMEOUT")
				var minutes int64
				for _, n := range nb.Counts {
					if n.Minutes == 0 && n.Completed == 0 && n.Canceled == 0 && n.Errored == 0 && n.Timeout == 0 && !zeros {
						continue
					}
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", fmtDay(n.Date), n.Minutes, n.Completed, n.Canceled, n.Errored, n.Timeout)
					minutes += n.Minutes
				}
				fmt.Fprintf(tw, "TOTAL\t%d\n", minutes)
			})
		})
	rangeFlags(cmd, &q.Start, &q.End)
	cmd.Flags().BoolVar(&zeros, "zeros", false, "show days without notebook runs too; -o json always has them")
	return cmd
}
