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

	"github.com/accountd/accountd"
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
		Version:       readBuildInfo().short(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("accountd {{.Version}}\n")
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(serveCmd(), userCmd(), migrateCmd(), keysCmd(), backupCmd(), versionCmd(),
		loginCmd(e), logoutCmd(e), meCmd(e), tokensCmd(e), tokenCmd(e), twoFactorCmd(e), verifyEmailCmd(e), accountCmd(e), githubCmd(e),
		invitesCmd(e), recentCmd(e), orgsCmd(e), appsCmd(e), devicesCmd(e), transferCmd(e), usageCmd(e))
	root.AddCommand(sessionsCmd(e))
	root.AddCommand(securityLogCmd(e))
	completeFlags(root)
	// Only flags marked with a documented variable read the environment.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return bindEnv(cmd, e) }

	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "accountd:", errorText(err))
	var ue usageError
	var ae authError
	var nf notFoundError
	switch {
	case errors.As(err, &ue) || isCobraUsage(err):
		return ExitUsage
	case errors.As(err, &ae):
		return ExitAuth
	case errors.As(err, &nf):
		return ExitNotFound
	}
	return ExitError
}

// notFoundError exits with ExitNotFound.
type notFoundError struct{ error }

// errorText is the one style every failure is told in: what went wrong,
// then what to do, without the codes or wrappers of the layers below.
func errorText(err error) string {
	for {
		switch e := err.(type) {
		case usageError:
			err = e.error
			continue
		case authError:
			err = e.error
			continue
		case notFoundError:
			err = e.error
			continue
		case *accountd.Error:
			if e.Code == accountd.CodeInternal && e.Err != nil {
				return e.Err.Error()
			}
			if e.Message != "" {
				return e.Message
			}
			return string(e.Code)
		}
		break
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "unknown command") {
		msg += ": run accountd --help for the commands"
	}
	return msg
}

func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "accepts ") ||
		strings.HasPrefix(msg, "requires ") || strings.Contains(msg, "required flag")
}

// envAnnotation marks a flag that a documented environment variable sets.
const envAnnotation = "accountd-env"

// envName is the variable that sets a flag: --db is ACCOUNTD_DB.
func envName(flag string) string {
	return "ACCOUNTD_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindEnv sets each unset flag that has a documented variable from it. It
// sets them as the command line would, so a required flag given by its
// variable counts as given. No other variable is read.
func bindEnv(cmd *cobra.Command, e env) error {
	var err error
	fs := cmd.Flags()
	fs.VisitAll(func(f *pflag.Flag) {
		name := f.Annotations[envAnnotation]
		if err != nil || f.Changed || len(name) == 0 {
			return
		}
		if v, ok := e[name[0]]; ok && v != "" {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = usageError{fmt.Errorf("%s: %w", name[0], setErr)}
			}
		}
	})
	return err
}

// withEnv lets ACCOUNTD_<FLAG> set each named flag and says so in its
// help; with no names, every flag of fs.
func withEnv(fs *pflag.FlagSet, names ...string) {
	bind := func(f *pflag.Flag) {
		if f.Name == "help" || len(f.Annotations[envAnnotation]) > 0 {
			return
		}
		fs.SetAnnotation(f.Name, envAnnotation, []string{envName(f.Name)})
		f.Usage += " (env " + envName(f.Name) + ")"
	}
	if len(names) == 0 {
		fs.VisitAll(bind)
		return
	}
	for _, n := range names {
		if f := fs.Lookup(n); f != nil {
			bind(f)
		}
	}
}
