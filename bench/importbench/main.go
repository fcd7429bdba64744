// Command importbench measures `accountd user import` of hashed users on
// SQLite against a baseline in the same run: the same rows inserted by
// plain database/sql into a one-table SQLite file, in one transaction,
// through the same driver. Figures go to BENCHMARKS.md.
//
//	go run ./bench/importbench [--users 100000] [--rounds 3]
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/accountd/accountd/internal/cli"
	"github.com/accountd/accountd/secret"
	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite"
)

const password = "Imported-pw-1"

// hashes holds one hash of password in each imported form (bcrypt and
// argon2id made at start, PBKDF2 and scrypt by Python's hashlib), each
// checked with secret.VerifyPassword. The import checks a line's hash
// form and parameters, not the password, so a hash repeated costs what a
// distinct one does.
var hashes = []string{
	"pbkdf2_sha256$1000$seasalt1234$YbrviBcdDDY/1vcx6H6UmJlKcwxzxbqs/BfM9pW/YRI=",
	"$scrypt$ln=10,r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg$3jrzE3K0kokmN0/jMY6RQyghrV6xoNCQUwg2/BasJ/8",
}

func makeHashes() error {
	bc, err := bcrypt.GenerateFromPassword([]byte(password), 12)
	if err != nil {
		return err
	}
	argon, err := secret.HashPassword(secret.DefaultParams, password, rand.Reader)
	if err != nil {
		return err
	}
	hashes = append(hashes, string(bc), argon)
	for _, h := range hashes {
		stored, err := secret.ImportHash(h)
		if err != nil {
			return err
		}
		if ok, err := secret.VerifyPassword(stored, password); !ok || err != nil {
			return fmt.Errorf("hash %.20s... does not verify: %v", h, err)
		}
	}
	return nil
}

type line struct {
	Email         string `json:"email"`
	FirstName     string `json:"firstName"`
	LastName      string `json:"lastName"`
	EmailVerified bool   `json:"emailVerified"`
	CreationDate  string `json:"creationDate"`
	PasswordHash  string `json:"passwordHash"`
}

func main() {
	users := flag.Int("users", 100_000, "users in the file")
	rounds := flag.Int("rounds", 3, "rounds; each imports into a fresh database")
	flag.Parse()
	check(makeHashes())
	dir, err := os.MkdirTemp("", "importbench")
	check(err)
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "users.ndjson")
	check(writeUsers(file, *users))
	fi, _ := os.Stat(file)
	fmt.Fprintf(os.Stderr, "wrote %d users, %.1f MiB\n", *users, float64(fi.Size())/(1<<20))

	var imports, bases []time.Duration
	for r := range *rounds {
		base, err := baseline(filepath.Join(dir, fmt.Sprintf("base%d.db", r)), file)
		check(err)
		db := filepath.Join(dir, fmt.Sprintf("import%d.db", r))
		start := time.Now()
		var errb strings.Builder
		code := cli.Run(context.Background(), []string{"user", "import", "--db", db, file}, nil, strings.NewReader(""), io.Discard, &errb)
		took := time.Since(start)
		if code != 0 {
			check(fmt.Errorf("user import exited %d: %s", code, errb.String()))
		}
		check(countUsers(db, *users))
		fmt.Fprintf(os.Stderr, "round %d: baseline %v, user import %v\n", r+1, base.Round(time.Millisecond), took.Round(time.Millisecond))
		imports, bases = append(imports, took), append(bases, base)
	}
	fmt.Printf("| round | baseline insert (s) | `user import` (s) | users/s | ratio to baseline |\n| --- | --- | --- | --- | --- |\n")
	for i := range imports {
		fmt.Printf("| %d | %.2f | %.2f | %.0f | %.2f |\n", i+1, bases[i].Seconds(), imports[i].Seconds(),
			float64(*users)/imports[i].Seconds(), imports[i].Seconds()/bases[i].Seconds())
	}
	fmt.Printf("\nmedian `user import`: %.2f s for %d users\n", median(imports).Seconds(), *users)
}

func writeUsers(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	created := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		if err := enc.Encode(line{
			Email: fmt.Sprintf("user%06d@example.com", i), FirstName: "First", LastName: fmt.Sprintf("Last%d", i), EmailVerified: i%3 != 0,
			CreationDate: created.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), PasswordHash: hashes[i%len(hashes)],
		}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// baseline reads the file and inserts its rows as they are into one plain
// table with a unique email, in one transaction: the floor under any import.
func baseline(db, file string) (time.Duration, error) {
	start := time.Now()
	conn, err := sql.Open("sqlite", db+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.Exec(`CREATE TABLE users (email TEXT NOT NULL UNIQUE, first_name TEXT, last_name TEXT,
		email_verified INTEGER, created_at TEXT, password_hash TEXT)`); err != nil {
		return 0, err
	}
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	tx, err := conn.Begin()
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	st, err := tx.Prepare("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return 0, err
		}
		if _, err := st.Exec(l.Email, l.FirstName, l.LastName, l.EmailVerified, l.CreationDate, l.PasswordHash); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func countUsers(db string, want int) error {
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		return err
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow("SELECT count(*) FROM users").Scan(&n); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("%s holds %d users, want %d", db, n, want)
	}
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "importbench:", err)
		os.Exit(1)
	}
}
