package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/postgres"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/sqlite"
	"github.com/spf13/cobra"
)

// dbFlags are shared by every command that works on the database directly.
type dbFlags struct {
	db       string
	keys     string
	keysFile string
}

const defaultDB = "accountd.db"

func (f *dbFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db, "db", defaultDB, "database: a SQLite file path, or a postgres:// URL")
	withEnv(cmd.Flags(), "db")
}

func (f *dbFlags) registerKeys(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.keys, "keys", "", "token signing keys, id:base64url-secret, comma-separated; the first signs")
	cmd.Flags().StringVar(&f.keysFile, "keys-file", "", "file of signing keys, one id:base64url-secret a line; the first signs (default with SQLite: <db>.keys, created on first start)")
	withEnv(cmd.Flags(), "keys", "keys-file")
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

func (f *dbFlags) open(ctx context.Context) (accountd.Store, error) {
	if isPostgres(f.db) {
		return postgres.Open(ctx, f.db)
	}
	return sqlite.Open(ctx, strings.TrimPrefix(f.db, "sqlite:"))
}

// openExisting opens the database for a command that only reads it: a
// SQLite file that is not there is refused rather than created empty.
func (f *dbFlags) openExisting(ctx context.Context) (accountd.Store, error) {
	if !isPostgres(f.db) {
		path := strings.TrimPrefix(f.db, "sqlite:")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, usageError{fmt.Errorf("no database at %s: run this where the server's database is, or give --db (ACCOUNTD_DB)", path)}
		}
	}
	return f.open(ctx)
}

// keyring loads the signing keys. With SQLite and nothing configured, a key
// file beside the database is created once, so the embedded default needs no
// set-up; with PostgreSQL every instance must share keys, so they must be
// given.
func (f *dbFlags) keyring() (*secret.Keyring, error) {
	if f.keys != "" {
		keys, err := secret.ParseKeys(f.keys)
		if err != nil {
			return nil, err
		}
		return secret.NewKeyring(keys...)
	}
	path := f.keysFile
	if path == "" {
		if isPostgres(f.db) {
			return nil, errors.New("with PostgreSQL, set --keys or --keys-file (ACCOUNTD_KEYS, ACCOUNTD_KEYS_FILE) so every instance signs with the same keys; `accountd keys generate` makes one")
		}
		path = strings.TrimPrefix(f.db, "sqlite:") + ".keys"
		if err := createKeyFile(path); err != nil {
			return nil, err
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading signing keys: %w", err)
	}
	keys, err := secret.ParseKeys(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return secret.NewKeyring(keys...)
}

// createKeyFile writes a fresh key to path, mode 0600, unless it exists.
func createKeyFile(path string) error {
	k, err := secret.GenerateKey(randReader)
	if err != nil {
		return err
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating signing key file: %w", err)
	}
	_, err = fmt.Fprintf(file, "# accountd token signing keys: the first signs, all verify. Keep secret.\n%s\n", k)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return err
}
