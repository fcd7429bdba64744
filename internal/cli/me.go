package cli

import (
	"fmt"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/spf13/cobra"
)

func meCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{
		Use:   "me",
		Short: "Show or change the signed-in account (GET/PATCH /me)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			me, err := c.Me.Get(cmd.Context(), nil)
			if err != nil {
				return remoteError(err)
			}
			return printMe(cmd, f, me)
		},
	}
	f.register(cmd)
	cmd.AddCommand(mePatchCmd(f), changePasswordCmd(f))
	return cmd
}

func printMe(cmd *cobra.Command, f *remoteFlags, me *client.Me) error {
	return f.print(cmd.OutOrStdout(), me, func(tw *tabwriter.Writer) {
		row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
		opt := func(k, v string) {
			if v == "" {
				v = "-"
			}
			row(k, v)
		}
		optTime := func(k string, t *time.Time) {
			if t == nil {
				opt(k, "")
				return
			}
			opt(k, fmtTime(*t))
		}
		row("ID", me.ID)
		row("Email", me.Email)
		row("Email verified", me.EmailVerified)
		opt("First name", me.FirstName)
		opt("Last name", me.LastName)
		opt("Company", me.CompanyName)
		opt("Title", me.Title)
		opt("Phone", me.PhoneNumber)
		opt("Location", me.Location)
		opt("URL", me.URL)
		row("Two-factor", me.TwoFactorAuthEnabled)
		opt("GitHub", me.GithubName)
		row("Created", fmtTime(me.CreationDate))
		row("Last updated", fmtTime(me.LastUpdated))
		optTime("Password changed", me.PasswordLastUpdated)
		optTime("Token cut-off", me.TokenCutoff)
		for _, k := range slices.Sorted(maps.Keys(me.Summary)) {
			if k == "payloadCount" {
				// payloads by type and source: the table shows the month's total
				row("Summary payloadCount", fmtNumber(me.SummaryPayloadCount().Total("")))
				continue
			}
			row("Summary "+k, me.Summary[k])
		}
	})
}

func mePatchCmd(f *remoteFlags) *cobra.Command {
	var fields struct{ email, first, last, company, title, phone, location, url, cutoff string }
	cmd := &cobra.Command{
		Use:   "patch",
		Short: "Change profile fields; a new email asks for the password",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			var m client.MePatch
			for _, x := range []struct {
				flag string
				val  string
				dst  **string
			}{
				{"email", fields.email, &m.Email}, {"first-name", fields.first, &m.FirstName}, {"last-name", fields.last, &m.LastName},
				{"company-name", fields.company, &m.CompanyName}, {"title", fields.title, &m.Title},
				{"phone-number", fields.phone, &m.PhoneNumber}, {"location", fields.location, &m.Location}, {"url", fields.url, &m.URL},
			} {
				if cmd.Flags().Changed(x.flag) {
					v := x.val
					*x.dst = &v
				}
			}
			if cmd.Flags().Changed("token-cutoff") {
				t := time.Now().UTC()
				if fields.cutoff != "now" {
					if t, err = time.Parse(time.RFC3339, fields.cutoff); err != nil {
						return usageError{fmt.Errorf("--token-cutoff: %q is not now or an RFC 3339 time", fields.cutoff)}
					}
				}
				m.TokenCutoff = &t
			}
			if m.Email != nil {
				p := newPrompter(cmd)
				pw, err := p.ask(cmd.Context(), "Current password: ", true)
				if err != nil {
					return err
				}
				m.CurrentCredentials = &client.CurrentCredentials{Password: pw}
			}
			me, err := c.Me.Patch(cmd.Context(), m, nil)
			if err != nil {
				return remoteError(err)
			}
			return printMe(cmd, f, me)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&fields.email, "email", "", "new email (asks for the current password)")
	fs.StringVar(&fields.first, "first-name", "", "first name")
	fs.StringVar(&fields.last, "last-name", "", "last name")
	fs.StringVar(&fields.company, "company-name", "", "company")
	fs.StringVar(&fields.title, "title", "", "title")
	fs.StringVar(&fields.phone, "phone-number", "", "phone number")
	fs.StringVar(&fields.location, "location", "", "location")
	fs.StringVar(&fields.url, "url", "", "web address")
	fs.StringVar(&fields.cutoff, "token-cutoff", "", `"now" or an RFC 3339 time: every token made before it stops working`)
	return cmd
}

func changePasswordCmd(f *remoteFlags) *cobra.Command {
	var invalidate bool
	cmd := &cobra.Command{
		Use:   "change-password",
		Short: "Change the password (asked for without echo) and keep the fresh token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			p := newPrompter(cmd)
			cur, err := p.ask(cmd.Context(), "Current password: ", true)
			if err != nil {
				return err
			}
			next, err := p.ask(cmd.Context(), "New password: ", true)
			if err != nil {
				return err
			}
			again, err := p.ask(cmd.Context(), "New password again: ", true)
			if err != nil {
				return err
			}
			if next != again {
				return usageError{fmt.Errorf("the new passwords differ")}
			}
			a, err := c.Me.ChangePassword(cmd.Context(), client.ChangePassword{Password: cur, NewPassword: next, InvalidateExistingTokens: invalidate})
			if err != nil {
				return remoteError(err)
			}
			saved, err := f.loadCredentials()
			if err != nil {
				return err
			}
			if saved.Token != "" && f.env["ACCOUNTD_TOKEN"] == "" {
				saved.Token = a.Token
				if err := f.saveCredentials(saved); err != nil {
					return err
				}
			}
			return f.done(cmd.OutOrStdout(), client.Success{Success: true}, "Password changed.")
		},
	}
	cmd.Flags().BoolVar(&invalidate, "invalidate-tokens", false, "make every earlier session and API token fail at once")
	return cmd
}
