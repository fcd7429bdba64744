package cli

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/accountd/accountd/client"
	"github.com/spf13/cobra"
)

func sessionsCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{Use: "sessions", Short: "See and sign out your login sessions (/me/sessions)"}
	f.register(cmd)
	revoke := sessionsRevokeCmd(f)
	revoke.ValidArgsFunction = completeSessionIDs(f)
	cmd.AddCommand(sessionsListCmd(f), revoke)
	return cmd
}

func sessionsListCmd(f *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List your live login sessions, newest first; * marks this one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			l, err := c.Me.Sessions(cmd.Context())
			if err != nil {
				return remoteError(err)
			}
			return f.print(cmd.OutOrStdout(), l, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ID\tVIA\tCREATED\tFROM\tLAST USED\tLAST FROM\tEXPIRES\tUSER AGENT")
				for _, s := range l.Items {
					id, used, from, exp := s.ID, "never", "-", "never"
					if s.Current {
						id += " *"
					}
					if s.LastUsed != nil {
						used, from = fmtTime(*s.LastUsed), orDash(s.LastUsedAddress)
					}
					if s.ExpirationDate != nil {
						exp = fmtTime(*s.ExpirationDate)
					}
					ua := s.LastUsedUserAgent
					if s.LastUsed == nil {
						ua = s.CreatedUserAgent
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, s.ObtainedVia, fmtTime(s.CreationDate),
						orDash(s.CreatedAddress), used, from, exp, orDash(oneLine(ua)))
				}
			})
		},
	}
}

func sessionsRevokeCmd(f *remoteFlags) *cobra.Command {
	var others bool
	cmd := &cobra.Command{
		Use:   "revoke ID | --all-others",
		Short: "Sign out one session, or every session but this one",
		Long: "Sign out one session by its id (from `accountd sessions list`), or with --all-others every session\n" +
			"but the one this command uses. A revoked session is refused at once, on every instance within a second.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if others == (len(args) == 1) {
				return usageError{errors.New("give a session id or --all-others, not both")}
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			if others {
				n, err := c.Me.RevokeOtherSessions(cmd.Context())
				if err != nil {
					return remoteError(err)
				}
				return f.done(cmd.OutOrStdout(), client.SessionsRevoked{Revoked: n}, fmt.Sprintf("Revoked %d other session(s).", n))
			}
			if err := c.Me.RevokeSession(cmd.Context(), args[0]); err != nil {
				return remoteError(err)
			}
			return f.done(cmd.OutOrStdout(), client.Success{Success: true}, "Revoked session "+args[0]+".")
		},
	}
	cmd.Flags().BoolVar(&others, "all-others", false, "sign out every session but this one")
	return cmd
}

func completeSessionIDs(f *remoteFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := f.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		l, err := c.Me.Sessions(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, s := range l.Items {
			out = append(out, s.ID+"\t"+s.ObtainedVia+" "+fmtTime(s.CreationDate))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a user agent from breaking the table.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}
