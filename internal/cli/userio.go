package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/secret"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
)

// userRecord is one line of `user import` and `user export`.
type userRecord struct {
	ID            string `json:"id,omitempty"`
	Email         string `json:"email"`
	FirstName     string `json:"firstName,omitempty"`
	LastName      string `json:"lastName,omitempty"`
	CompanyName   string `json:"companyName,omitempty"`
	Title         string `json:"title,omitempty"`
	PhoneNumber   string `json:"phoneNumber,omitempty"`
	Location      string `json:"location,omitempty"`
	URL           string `json:"url,omitempty"`
	EmailVerified bool   `json:"emailVerified"`
	CreationDate  string `json:"creationDate,omitempty"`
	Password      string `json:"password,omitempty"`
	PasswordHash  string `json:"passwordHash,omitempty"`
}

const userFormatHelp = `One JSON object a line:

  {"email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","emailVerified":true,
   "creationDate":"2019-03-01T10:00:00.000Z","passwordHash":"$2b$12$..."}

Fields: email (required), firstName, lastName, companyName, title,
phoneNumber, location, url, emailVerified, creationDate (RFC 3339; default
now), id (24 hex characters; default a new one), and exactly one of
password (hashed here; it must meet the password rule) or passwordHash:
  argon2id  $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
  bcrypt    $2a$, $2b$ or $2y$
  PBKDF2    Django's pbkdf2_sha256$<iterations>$<salt>$<hash>, or
            $pbkdf2-sha256$i=<iterations>$<salt>$<hash>
  scrypt    $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>
(salts and hashes of the $-forms in unpadded standard base64). Imported
hashes work at once and are replaced by argon2id at each user's next login.`

func userImportCmd() *cobra.Command {
	var f dbFlags
	var out *remoteFlags
	hash := hashParams
	cmd := &cobra.Command{
		Use:   "import FILE|-",
		Short: "Create accounts from an NDJSON file, with their password hashes (operator)",
		Long: `Create accounts in the database directly, from a file or standard input (-).

` + userFormatHelp + `

The whole file is one transaction: every line is checked first, and a bad
line (or an email that is taken, in the file or in the database) stops the
import naming the line and the field, with nothing imported. On a terminal
a progress line shows the count, the rate and the time left.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.checkOutput(); err != nil {
				return err
			}
			in, closeIn, err := openInput(cmd, args[0])
			if err != nil {
				return err
			}
			defer closeIn()
			if hash.Memory == 0 || hash.Time == 0 {
				return usageError{errors.New("--hash-memory, --hash-time: must be positive")}
			}
			users, err := readUsers(cmd.Context(), in, cmd.ErrOrStderr(), hash, time.Now)
			if err != nil {
				return err
			}
			store, err := f.open(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			if err := insertUsers(cmd.Context(), store, users, cmd.ErrOrStderr()); err != nil {
				return err
			}
			return out.done(cmd.OutOrStdout(), map[string]int{"imported": len(users)}, fmt.Sprintf("imported %d users", len(users)))
		},
	}
	f.register(cmd)
	cmd.Flags().Uint32Var(&hash.Memory, "hash-memory", hash.Memory, "argon2id memory per password hash of a plain password, KiB (as serve's)")
	cmd.Flags().Uint32Var(&hash.Time, "hash-time", hash.Time, "argon2id passes per password hash of a plain password (as serve's)")
	withEnv(cmd.Flags(), "hash-memory", "hash-time")
	out = outputFlag(cmd)
	return cmd
}

// lineUser is a user to import and the line it came from.
type lineUser struct {
	line     int
	user     *accountd.User
	password string // to hash, when the line gave no hash
}

// lineError names the line of the input a failure is about.
func lineError(line int, err error) error {
	var ae *accountd.Error
	if errors.As(err, &ae) && ae.Message != "" {
		err = errors.New(ae.Message)
	}
	return usageError{fmt.Errorf("line %d: %w: nothing was imported", line, err)}
}

// readUsers parses and checks every line, then hashes the plain passwords
// on every core. It stops at the first bad line.
func readUsers(ctx context.Context, in io.Reader, stderr io.Writer, hash secret.Params, now func() time.Time) ([]lineUser, error) {
	var (
		users []lineUser
		seen  = map[string]int{} // email key: line
		plain int
	)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		lu, err := parseUserLine(raw, now)
		if err != nil {
			return nil, lineError(n, err)
		}
		lu.line = n
		key := accountd.EmailKey(lu.user.Email)
		if first, ok := seen[key]; ok {
			return nil, lineError(n, fmt.Errorf("email: %s is also on line %d", lu.user.Email, first))
		}
		seen[key] = n
		if lu.password != "" {
			plain++
		}
		users = append(users, lu)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the input: %w", err)
	}
	if plain == 0 {
		return users, nil
	}
	bar := newProgress(stderr, "hashing passwords", plain)
	defer bar.done()
	var mu sync.Mutex
	hashed := 0
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range users {
		if users[i].password == "" {
			continue
		}
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			h, err := secret.HashPassword(hash, users[i].password, randReader)
			if err != nil {
				return err
			}
			users[i].user.PasswordHash, users[i].password = h, ""
			mu.Lock()
			hashed++
			bar.set(hashed)
			mu.Unlock()
			return nil
		})
	}
	return users, g.Wait()
}

func parseUserLine(raw []byte, now func() time.Time) (lineUser, error) {
	var r userRecord
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return lineUser{}, jsonFieldError(err)
	}
	if dec.More() {
		return lineUser{}, errors.New("more than one JSON value on the line")
	}
	created := accountd.Millis(now())
	if r.CreationDate != "" {
		t, err := time.Parse(time.RFC3339Nano, r.CreationDate)
		if err != nil {
			return lineUser{}, fmt.Errorf("creationDate: %q is not an RFC 3339 time", r.CreationDate)
		}
		created = accountd.Millis(t.UTC())
	}
	id := r.ID
	if id == "" {
		id = accountd.NewID(created)
	}
	u := &accountd.User{
		ID: id, Email: strings.TrimSpace(r.Email), FirstName: r.FirstName, LastName: r.LastName,
		CompanyName: r.CompanyName, Title: r.Title, PhoneNumber: r.PhoneNumber, Location: r.Location, URL: r.URL,
		EmailVerified: r.EmailVerified, CreatedAt: created, UpdatedAt: created, PasswordUpdatedAt: created,
	}
	lu := lineUser{user: u}
	switch {
	case r.Password != "" && r.PasswordHash != "":
		return lineUser{}, errors.New("password, passwordHash: give one, not both")
	case r.PasswordHash != "":
		h, err := secret.ImportHash(r.PasswordHash)
		if err != nil {
			return lineUser{}, fmt.Errorf("passwordHash: %w", err)
		}
		u.PasswordHash = h
	case r.Password != "":
		if err := accountd.ValidatePassword("password", r.Password); err != nil {
			return lineUser{}, err
		}
		u.PasswordHash, lu.password = "pending", r.Password // hashed after every line is checked
	default:
		return lineUser{}, errors.New("password, passwordHash: one is required")
	}
	if err := u.Validate(); err != nil {
		return lineUser{}, err
	}
	return lu, nil
}

// jsonFieldError names the field a decoding error is about.
func jsonFieldError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: must be a %s", te.Field, te.Type)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("%s: unknown field", strings.Trim(f, `"`))
	}
	return fmt.Errorf("not a JSON object: %w", err)
}

// insertUsers writes every user in one transaction.
func insertUsers(ctx context.Context, store accountd.Store, users []lineUser, stderr io.Writer) error {
	bar := newProgress(stderr, "importing users", len(users))
	defer bar.done()
	return store.InTx(ctx, func(tx accountd.Store) error {
		for i, lu := range users {
			if err := tx.CreateUser(ctx, lu.user); err != nil {
				if c := accountd.ErrorCode(err); c == accountd.CodeConflict || c == accountd.CodeInvalid {
					return lineError(lu.line, fmt.Errorf("email or id: %s (or its id) is already in the database", lu.user.Email))
				}
				return err
			}
			bar.set(i + 1)
		}
		return nil
	})
}

func userExportCmd() *cobra.Command {
	var f dbFlags
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write every account as NDJSON with its password hash, the format user import reads (operator)",
		Long: `Write every account, oldest first, to standard output in the format
` + "`accountd user import`" + ` reads, ids and password hashes included. The output
holds every user's password hash: keep it as secret as the database.

` + userFormatHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := f.openExisting(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			users, err := store.Users(cmd.Context())
			if err != nil {
				return err
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			enc := json.NewEncoder(w)
			for _, u := range users {
				if err := enc.Encode(userRecord{
					ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, CompanyName: u.CompanyName,
					Title: u.Title, PhoneNumber: u.PhoneNumber, Location: u.Location, URL: u.URL,
					EmailVerified: u.EmailVerified, CreationDate: accountd.FormatTime(u.CreatedAt), PasswordHash: u.PasswordHash,
				}); err != nil {
					return err
				}
			}
			return w.Flush()
		},
	}
	f.register(cmd)
	return cmd
}

// openInput opens the file an import reads, or standard input for "-".
func openInput(cmd *cobra.Command, name string) (io.Reader, func(), error) {
	if name == "-" {
		return cmd.InOrStdin(), func() {}, nil
	}
	file, err := os.Open(name)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("cannot read %s: %w", name, errors.Unwrap(err))}
	}
	return file, func() { file.Close() }, nil
}
