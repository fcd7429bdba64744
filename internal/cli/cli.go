// Package cli holds every accountd command. Run is the whole program: it
// takes its arguments, environment and streams explicitly, so tests run
// commands in-process exactly as a shell would.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes scripts can rely on.
const (
	ExitOK       = 0
	ExitError    = 1 // the command failed
	ExitUsage    = 2 // bad flags or arguments
	ExitNotFound = 3 // the thing asked for does not exist
	// ExitAuth (4, remote.go): not logged in, or the token was refused
)

// usageError marks a failure of the caller's words rather than of the work.
type usageError struct{ error }

// env is the process environment as a lookup.
type env map[string]string

func parseEnv(environ []string) env {
	e := env{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			e[k] = v
		}
	}
	return e
}

// Run executes one accountd command line and returns its exit code.
func Run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := parseEnv(environ)
	root := &cobra.Command{
		Use:   "accountd",
		Short: "Self-hosted user accounts: the Losant-compatible Me and API-token API",
		Long: `accountd serves user accounts, logins and personal API tokens over the
Losant platform's REST wire format, on an embedded SQLite file or on PostgreSQL.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(serveCmd(), userCmd(), migrateCmd(), keysCmd(), loginCmd(e), logoutCmd(e), meCmd(e), tokensCmd(e),
		invitesCmd(e), recentCmd(e), orgsCmd(e), appsCmd(e), devicesCmd(e), transferCmd(e), usageCmd(e))
	// Flags left unset take their value from ACCOUNTD_<FLAG_NAME>.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return bindEnv(cmd, e) }

	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "accountd:", err)
	var ue usageError
	var ae authError
	switch {
	case errors.As(err, &ue) || isCobraUsage(err):
		return ExitUsage
	case errors.As(err, &ae):
		return ExitAuth
	case errors.Is(err, errNotFound):
		return ExitNotFound
	}
	return ExitError
}

var errNotFound = errors.New("not found")

func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "accepts ") ||
		strings.HasPrefix(msg, "requires ") || strings.Contains(msg, "required flag")
}

// envName is the variable that sets a flag: --db is ACCOUNTD_DB.
func envName(flag string) string {
	return "ACCOUNTD_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func bindEnv(cmd *cobra.Command, e env) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		if v, ok := e[envName(f.Name)]; ok && v != "" {
			if setErr := f.Value.Set(v); setErr != nil {
				err = usageError{fmt.Errorf("%s: %w", envName(f.Name), setErr)}
			}
		}
	})
	return err
}

// withEnvHelp appends each flag's variable to its usage text.
func withEnvHelp(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		f.Usage += " (env " + envName(f.Name) + ")"
	})
}
