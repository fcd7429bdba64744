package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/spf13/cobra"
)

func tokensCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{Use: "tokens", Short: "Manage personal API tokens (/me/tokens)"}
	f.register(cmd)
	cmd.AddCommand(tokensListCmd(f), tokensCreateCmd(f))
	for _, sub := range []*cobra.Command{tokensGetCmd(f), tokensUpdateCmd(f), tokensRevokeCmd(f)} {
		sub.ValidArgsFunction = completeTokenIDs(f)
		cmd.AddCommand(sub)
	}
	return cmd
}

func printTokens(cmd *cobra.Command, f *remoteFlags, v any, tokens ...client.APIToken) error {
	return f.print(cmd.OutOrStdout(), v, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tSCOPE\tEXPIRES\tLAST USED")
		for _, t := range tokens {
			exp, used := "never", "never"
			if t.ExpirationDate != nil {
				exp = fmtTime(*t.ExpirationDate)
			}
			if t.LastUsed != nil {
				used = fmtTime(*t.LastUsed)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Status, strings.Join(t.Scope, ","), exp, used)
		}
	})
}

func tokensListCmd(f *remoteFlags) *cobra.Command {
	var p client.ListParams
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			l, err := c.UserAPITokens.Get(cmd.Context(), &p)
			if err != nil {
				return remoteError(err)
			}
			return printTokens(cmd, f, l, l.Items...)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&p.SortField, "sort", "", "name, status, id, creationDate, lastUpdated or expirationDate")
	fs.StringVar(&p.SortDirection, "direction", "", "asc or desc")
	fs.IntVar(&p.Page, "page", 0, "page, from 0")
	fs.IntVar(&p.PerPage, "per-page", 0, "tokens a page (default 100)")
	fs.StringVar(&p.FilterField, "filter-field", "", "name or status")
	fs.StringVar(&p.Filter, "filter", "", "glob for the filter field; * matches anything")
	return cmd
}

func tokensCreateCmd(f *remoteFlags) *cobra.Command {
	var p client.APITokenPost
	var expires time.Duration
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create an API token and print its value, shown only this once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			if expires > 0 {
				at := time.Now().Add(expires).UTC()
				p.ExpirationDate = &at
			}
			t, err := c.UserAPITokens.Post(cmd.Context(), p)
			if err != nil {
				return remoteError(err)
			}
			if f.output == "json" {
				return f.print(cmd.OutOrStdout(), t, nil)
			}
			if err := printTokens(cmd, f, t, *t); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\nToken (shown only now):\n%s\n", t.Token)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&p.Name, "name", "", "name (required)")
	fs.StringVar(&p.Description, "description", "", "description")
	fs.StringSliceVar(&p.Scope, "scope", nil, "scopes, comma-separated (default all.User)")
	fs.DurationVar(&expires, "expires-in", 0, "expire after this long (default: never)")
	cmd.MarkFlagRequired("name")
	return cmd
}

func tokensGetCmd(f *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one API token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			t, err := c.UserAPIToken.Get(cmd.Context(), args[0])
			if err != nil {
				return remoteError(err)
			}
			return printTokens(cmd, f, t, *t)
		},
	}
}

func tokensUpdateCmd(f *remoteFlags) *cobra.Command {
	var name, description, status string
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Rename, describe, deactivate or reactivate an API token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			var p client.APITokenPatch
			if cmd.Flags().Changed("name") {
				p.Name = &name
			}
			if cmd.Flags().Changed("description") {
				p.Description = &description
			}
			if cmd.Flags().Changed("status") {
				p.Status = &status
			}
			t, err := c.UserAPIToken.Patch(cmd.Context(), args[0], p)
			if err != nil {
				return remoteError(err)
			}
			return printTokens(cmd, f, t, *t)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "new name")
	cmd.Flags().StringVar(&description, "description", "", "new description")
	cmd.Flags().StringVar(&status, "status", "", "active or inactive")
	return cmd
}

func tokensRevokeCmd(f *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Delete an API token; it fails from its next use on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			if err := c.UserAPIToken.Delete(cmd.Context(), args[0]); err != nil {
				return remoteError(err)
			}
			return f.done(cmd.OutOrStdout(), client.Success{Success: true}, "Revoked "+args[0]+".")
		},
	}
}
