package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/service"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func securityLogCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	var (
		p            client.SecurityLogParams
		since, until string
	)
	cmd := &cobra.Command{
		Use:   "security-log",
		Short: "Show what happened to your account: logins, credential and token changes (/me/securityLog)",
		Long: `Show a page of your account's security log, newest first: logins that
succeeded, failed or were throttled, two-factor and recovery code changes,
password and email changes, GitHub links, API tokens created, changed and
revoked, sessions revoked, invitations answered, resources transferred and
refused deletions, each with the client's address and user agent.

--since and --until take an RFC 3339 time (2026-01-02T15:04:05Z) or a
duration back from now (24h, 720h).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			var err error
			if p.Since, err = pastTime("since", since, now); err != nil {
				return err
			}
			if p.Until, err = pastTime("until", until, now); err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			l, err := c.Me.SecurityLog(cmd.Context(), &p)
			if err != nil {
				return remoteError(err)
			}
			return f.print(cmd.OutOrStdout(), l, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "TIME\tKIND\tADDRESS\tOBJECT\tDETAIL\tUSER AGENT")
				for _, ev := range l.Items {
					obj := ev.ObjectType
					if ev.ObjectID != "" {
						obj += " " + ev.ObjectID
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", fmtTime(ev.Time), ev.Kind, dash(ev.Address), dash(obj),
						dash(detailText(ev.Detail)), dash(ev.UserAgent))
				}
				if l.TotalCount > (l.Page+1)*l.PerPage {
					fmt.Fprintf(tw, "(page %d: %d of %d entries; --page %d for more)\n", l.Page, l.Count, l.TotalCount, l.Page+1)
				}
			})
		},
	}
	f.register(cmd)
	fs := cmd.Flags()
	fs.StringSliceVar(&p.Kinds, "kind", nil, "only these kinds, comma-separated (login.failed, token.created, ...)")
	fs.StringVar(&since, "since", "", "only entries at or after this time, or this long ago")
	fs.StringVar(&until, "until", "", "only entries before this time, or this long ago")
	fs.IntVar(&p.Page, "page", 0, "page, from 0")
	fs.IntVar(&p.PerPage, "per-page", 0, "entries a page (default 100, at most 1000)")
	return cmd
}

// pastTime reads an RFC 3339 time or a duration back from now.
func pastTime(flag, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usageError{fmt.Errorf("--%s: %q is neither an RFC 3339 time nor a duration such as 24h", flag, v)}
}

func detailText(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + d[k]
	}
	return strings.Join(parts, " ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// securityLogFlags configure the security log and notifications (serve).
type securityLogFlags struct {
	retention        time.Duration
	noticeInterval   time.Duration
	notifyNewAddress bool
}

func (f *securityLogFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&f.retention, "security-log-retention", 90*24*time.Hour, "how long security log entries are kept; older ones are pruned every minute")
	fs.DurationVar(&f.noticeInterval, "notice-interval", 5*time.Minute, "least time between two security notifications of one kind to one user")
	fs.BoolVar(&f.notifyNewAddress, "notify-new-address", true, "mail users when their account is signed in to from an address it was not signed in from before")
}

func (f *securityLogFlags) config() (service.SecurityLogConfig, error) {
	if f.retention < time.Hour {
		return service.SecurityLogConfig{}, usageError{errors.New("--security-log-retention: must be at least 1h")}
	}
	if f.noticeInterval < time.Second {
		return service.SecurityLogConfig{}, usageError{errors.New("--notice-interval: must be at least 1s")}
	}
	return service.SecurityLogConfig{Retention: f.retention, NoticeEvery: f.noticeInterval, NoNewAddressNotice: !f.notifyNewAddress}, nil
}
