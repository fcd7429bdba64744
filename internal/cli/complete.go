package cli

import (
	"slices"
	"strings"

	"github.com/accountd/accountd/httpapi"
	"github.com/spf13/cobra"
)

// Shell completion beyond command and flag names: the values of enum
// flags, the scopes a token may hold, recent item types, and the ids of the
// signed-in user's API tokens (asked of the server, quietly: a completion
// that cannot reach it offers nothing).

func fixed(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// completeFlags registers completions for the enum flags of cmd and its
// subcommands, by flag name.
func completeFlags(cmd *cobra.Command) {
	enums := map[string]cobra.CompletionFunc{
		"status":     fixed("active", "inactive"),
		"direction":  fixed("asc", "desc"),
		"role":       fixed("admin", "edit", "collaborate", "view"),
		"mfa":        fixed("notRequired", "adminRequired", "required"),
		"to-type":    fixed("user", "organization"),
		"log-level":  fixed("debug", "info", "warn", "error"),
		"log-format": fixed("json", "text"),
		"smtp-tls":   fixed("starttls", "tls", "none"),
		"scope":      completeScopes,
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for name, fn := range enums {
			if c.LocalNonPersistentFlags().Lookup(name) != nil {
				c.RegisterFlagCompletionFunc(name, fn)
			}
		}
		switch c.CommandPath() {
		case "accountd tokens list":
			c.RegisterFlagCompletionFunc("sort", fixed("name", "status", "id", "creationDate", "lastUpdated", "expirationDate"))
			c.RegisterFlagCompletionFunc("filter-field", fixed("name", "status"))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cmd)
}

// completeScopes offers every scope, after the ones already typed in a
// comma-separated list.
func completeScopes(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	prefix := ""
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		prefix = toComplete[:i+1]
	}
	var out []string
	for _, s := range httpapi.Catalog().Scopes() {
		out = append(out, prefix+s)
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

var recentTypes = []string{"application", "dashboard", "organization", "device", "flow"}

// completeTokenIDs offers the ids of the signed-in user's API tokens, with
// their names, for the first argument only.
func completeTokenIDs(f *remoteFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := f.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		l, err := c.UserAPITokens.Get(cmd.Context(), nil)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, t := range l.Items {
			out = append(out, t.ID+"\t"+t.Name)
		}
		slices.Sort(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
