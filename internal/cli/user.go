package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/httpapi"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
	"github.com/accountd/accountd/sqlite"
	"github.com/spf13/cobra"
)

func userCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage accounts directly in the database (operator)",
	}
	cmd.AddCommand(userCreateCmd(), userListCmd(), userImportCmd(), userExportCmd())
	return cmd
}

// operatorService opens the database and builds a service on it for a
// one-shot operator command. No tokens are signed, so an ephemeral key does.
func operatorService(cmd *cobra.Command, f *dbFlags) (*service.Service, func(), error) {
	store, err := f.open(cmd.Context())
	if err != nil {
		return nil, nil, err
	}
	k, err := secret.GenerateKey(randReader)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	keys, _ := secret.NewKeyring(k)
	svc, err := service.New(service.Config{Store: store, Keys: keys, Catalog: httpapi.Catalog(), Hash: hashParams})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return svc, func() { svc.Close(); store.Close() }, nil
}

// hashParams is the cost operator commands hash with; the server upgrades
// hashes made under other parameters at the next login.
var hashParams = secret.DefaultParams

func userCreateCmd() *cobra.Command {
	var f dbFlags
	var n service.NewUser
	var out *remoteFlags
	cmd := &cobra.Command{
		Use:   "create --email EMAIL --password PASSWORD",
		Short: "Create an account and print its id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.checkOutput(); err != nil {
				return err
			}
			if n.Password == "-" {
				// read it from stdin, so it stays out of the process list and shell history
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return usageError{fmt.Errorf("--password -: no password on standard input")}
				}
				n.Password = strings.TrimRight(line, "\r\n")
			}
			svc, done, err := operatorService(cmd, &f)
			if err != nil {
				return err
			}
			defer done()
			u, err := svc.CreateUser(cmd.Context(), n)
			if err != nil {
				if c := accountd.ErrorCode(err); c == accountd.CodeInvalid || c == accountd.CodeConflict {
					return usageError{err}
				}
				return err
			}
			return out.done(cmd.OutOrStdout(), map[string]string{"id": u.ID}, u.ID)
		},
	}
	f.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&n.Email, "email", "", "email address (required)")
	fs.StringVar(&n.Password, "password", "", "password, or - to read it from standard input; it "+accountd.PasswordRule+" (required)")
	fs.StringVar(&n.FirstName, "first-name", "", "first name")
	fs.StringVar(&n.LastName, "last-name", "", "last name")
	fs.BoolVar(&n.Verified, "verified", false, "mark the email as already verified")
	cmd.MarkFlagRequired("email")
	cmd.MarkFlagRequired("password")
	withEnv(fs, "password")
	out = outputFlag(cmd)
	return cmd
}

func userListCmd() *cobra.Command {
	var f dbFlags
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every account, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := (&remoteFlags{output: output}).checkOutput(); err != nil {
				return err
			}
			store, err := f.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			users, err := store.Users(cmd.Context())
			if err != nil {
				return err
			}
			return printUsers(cmd.OutOrStdout(), users, output)
		},
	}
	f.register(cmd)
	addOutputFlag(cmd, &output)
	return cmd
}

type userRow struct {
	ID            string `json:"id"`
	Email         string `json:"email"`
	FirstName     string `json:"firstName"`
	LastName      string `json:"lastName"`
	EmailVerified bool   `json:"emailVerified"`
	CreationDate  string `json:"creationDate"`
}

func printUsers(w io.Writer, users []*accountd.User, output string) error {
	rows := make([]userRow, 0, len(users))
	for _, u := range users {
		rows = append(rows, userRow{u.ID, u.Email, u.FirstName, u.LastName, u.EmailVerified, accountd.FormatTime(u.CreatedAt)})
	}
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tVERIFIED\tCREATED")
	for i, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", r.ID, r.Email, users[i].FullName(), r.EmailVerified, fmtTime(users[i].CreatedAt))
	}
	return tw.Flush()
}

func migrateCmd() *cobra.Command {
	var f dbFlags
	var out *remoteFlags
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema, then exit",
		Long:  "Create or upgrade the database schema, then exit. serve does the same on start; run this first to upgrade PostgreSQL before rolling out new instances.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.checkOutput(); err != nil {
				return err
			}
			store, err := f.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := store.Close(); err != nil {
				return err
			}
			return out.done(cmd.OutOrStdout(), map[string]bool{"upToDate": true}, "database is up to date")
		},
	}
	f.register(cmd)
	out = outputFlag(cmd)
	return cmd
}

func backupCmd() *cobra.Command {
	var f dbFlags
	var out *remoteFlags
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the SQLite database to FILE while the server runs (operator)",
		Long: `Write a consistent copy of the SQLite database to FILE (mode 0600), while the
server keeps running: one read transaction (VACUUM INTO), so writers carry on.
FILE must not exist. Keep the key file (<db>.keys) with it: tokens and
two-factor keys need it. For PostgreSQL use pg_dump.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.checkOutput(); err != nil {
				return err
			}
			if isPostgres(f.db) {
				return usageError{errors.New("backup copies SQLite files: for PostgreSQL use pg_dump")}
			}
			path := strings.TrimPrefix(f.db, "sqlite:")
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				return usageError{fmt.Errorf("no database at %s: run this where the server's database is, or give --db (ACCOUNTD_DB)", path)}
			}
			if _, err := os.Stat(args[0]); err == nil {
				return usageError{fmt.Errorf("%s already exists: name a new file", args[0])}
			}
			if err := sqlite.Backup(cmd.Context(), path, args[0]); err != nil {
				return err
			}
			return out.done(cmd.OutOrStdout(), map[string]string{"database": path, "backup": args[0]}, "copied "+path+" to "+args[0])
		},
	}
	f.register(cmd)
	out = outputFlag(cmd)
	return cmd
}

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Token signing keys"}
	var out *remoteFlags
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Print a new signing key, id:base64url-secret",
		Long: `Print a new signing key. To rotate, put the new key first in --keys or the
keys file and keep the old ones after it for as long as the tokens they signed
should keep working (API tokens never expire unless given a date).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.checkOutput(); err != nil {
				return err
			}
			k, err := secret.GenerateKey(randReader)
			if err != nil {
				return err
			}
			return out.done(cmd.OutOrStdout(), map[string]string{"key": k.String()}, k.String())
		},
	}
	out = outputFlag(gen)
	cmd.AddCommand(gen)
	return cmd
}
