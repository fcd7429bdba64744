package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/pgtest"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/secret"
	"github.com/accountd/accountd/service"
	"github.com/accountd/accountd/sqlite"
	"golang.org/x/crypto/bcrypt"
)

// Hashes of importedPW made by other implementations (Python's hashlib).
const (
	importedPW   = "Imported-pw-1"
	djangoHash   = "pbkdf2_sha256$1000$seasalt1234$YbrviBcdDDY/1vcx6H6UmJlKcwxzxbqs/BfM9pW/YRI="
	scryptHash   = "$scrypt$ln=10,r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg$3jrzE3K0kokmN0/jMY6RQyghrV6xoNCQUwg2/BasJ/8"
	cheapHashArg = "--hash-memory=64"
)

func writeFile(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestUserImport imports users with every accepted hash form and a plain
// password, then logs each in on a real server over the same database:
// the login works and upgrades the hash to argon2id.
func TestUserImport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	env := []string{"ACCOUNTD_DB=" + db}
	bc, _ := bcrypt.GenerateFromPassword([]byte(importedPW), bcrypt.MinCost)
	argon, _ := secret.HashPassword(secret.Params{Memory: 128, Time: 1, Threads: 1}, importedPW, rand.Reader)
	file := writeFile(t, dir, "users.ndjson",
		`{"email":"bcrypt@example.com","firstName":"Bea","emailVerified":true,"creationDate":"2019-03-01T10:00:00Z","passwordHash":"`+string(bc)+`"}`,
		`{"email":"django@example.com","lastName":"Go","emailVerified":true,"passwordHash":"`+djangoHash+`"}`,
		``,
		`{"email":"scrypt@example.com","emailVerified":true,"passwordHash":"`+scryptHash+`"}`,
		`{"email":"argon@example.com","emailVerified":true,"passwordHash":"`+argon+`"}`,
		`{"email":"plain@example.com","emailVerified":false,"password":"Plain-passw0rd!","companyName":"Acme"}`,
	)
	code, out, errOut := run(t, env, "user", "import", file, cheapHashArg, "--hash-time=1")
	if code != ExitOK || strings.TrimSpace(out) != "imported 5 users" || errOut != "" {
		t.Fatalf("user import = %d %q %q; want 5 users and nothing on stderr (not a terminal)", code, out, errOut)
	}

	// export: the same format, ids and hashes included
	code, out, errOut = run(t, env, "user", "export")
	if code != ExitOK {
		t.Fatalf("user export = %d %q", code, errOut)
	}
	var recs []userRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r userRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 5 || recs[0].Email != "bcrypt@example.com" || recs[0].CreationDate != "2019-03-01T10:00:00.000Z" ||
		recs[0].PasswordHash != string(bc) || recs[0].FirstName != "Bea" || len(recs[0].ID) != 24 {
		t.Fatalf("export = %+v", recs)
	}
	for _, r := range recs {
		if r.Email == "django@example.com" && !strings.HasPrefix(r.PasswordHash, "$pbkdf2-sha256$i=1000$") {
			t.Errorf("the Django hash is exported as %q, want the PHC form", r.PasswordHash)
		}
	}
	// the export imports into a fresh database as it is: a round trip
	exported := writeFile(t, dir, "export.ndjson", strings.TrimSpace(out))
	db2 := filepath.Join(dir, "b.db")
	if code, _, errOut := run(t, nil, "user", "import", "--db", db2, exported); code != ExitOK {
		t.Fatalf("importing the export = %d %q", code, errOut)
	}
	if code, out2, _ := run(t, nil, "user", "export", "--db", db2); code != ExitOK || out2 != out {
		t.Errorf("export of the re-import differs:\n%s\nwant\n%s", out2, out)
	}

	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	srv := testenv.Start(t, "sqlite", testenv.Options{Store: st, AllowUnverifiedEmail: true})
	ctx := context.Background()
	for _, tt := range []struct{ email, password string }{
		{"bcrypt@example.com", importedPW}, {"django@example.com", importedPW}, {"scrypt@example.com", importedPW},
		{"argon@example.com", importedPW}, {"plain@example.com", "Plain-passw0rd!"},
	} {
		c := srv.Client(t, "")
		if _, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: tt.email, Password: tt.password + "x"}); err == nil {
			t.Errorf("%s: a wrong password was accepted", tt.email)
		}
		if _, err := c.Auth.AuthenticateUser(ctx, client.UserCredentials{Email: tt.email, Password: tt.password}); err != nil {
			t.Errorf("%s: login with the imported password: %v", tt.email, err)
			continue
		}
		u, err := st.UserByEmail(ctx, tt.email)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || secret.NeedsRehash(u.PasswordHash, testenv.CheapHash) {
			t.Errorf("%s: hash after login %q, want argon2id under the server's parameters", tt.email, u.PasswordHash)
		}
	}
}

// TestUserImportRefuses checks that a bad line names its line and field and
// that nothing of the file lands.
func TestUserImportRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	env := []string{"ACCOUNTD_DB=" + db}
	if code, _, errOut := run(t, env, "user", "create", "--email", "taken@example.com", "--password", pw); code != ExitOK {
		t.Fatal(errOut)
	}
	good := `{"email":"good@example.com","passwordHash":"` + djangoHash + `"}`
	tests := []struct {
		name, line, want string
	}{
		{"unknown field", `{"email":"x@example.com","pasword":"x"}`, "line 2: pasword: unknown field"},
		{"wrong type", `{"email":"x@example.com","emailVerified":"yes","password":"Plain-passw0rd!"}`, "line 2: emailVerified: must be a bool"},
		{"not json", `email=x`, "line 2: not a JSON object"},
		{"bad email", `{"email":"nope","password":"Plain-passw0rd!"}`, "line 2: email: must be a valid email address"},
		{"weak password", `{"email":"x@example.com","password":"short"}`, "line 2: password: must be at least 12"},
		{"no password", `{"email":"x@example.com"}`, "line 2: password, passwordHash: one is required"},
		{"both", `{"email":"x@example.com","password":"Plain-passw0rd!","passwordHash":"` + djangoHash + `"}`, "line 2: password, passwordHash: give one"},
		{"unknown hash", `{"email":"x@example.com","passwordHash":"$1$abc$def"}`, "line 2: passwordHash: unknown hash format"},
		{"bad date", `{"email":"x@example.com","password":"Plain-passw0rd!","creationDate":"yesterday"}`, "line 2: creationDate:"},
		{"twice in the file", `{"email":"GOOD@example.com","password":"Plain-passw0rd!"}`, "line 2: email: GOOD@example.com is also on line 1"},
		{"taken in the database", `{"email":"taken@example.com","password":"Plain-passw0rd!"}`, "line 2: email or id: taken@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, t.TempDir(), "u.ndjson", good, tt.line)
			code, out, errOut := run(t, env, "user", "import", file, cheapHashArg, "--hash-time=1")
			if code != ExitUsage || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "nothing was imported") ||
				!strings.HasPrefix(errOut, "accountd: ") || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d with %q", code, out, errOut, ExitUsage, tt.want)
			}
		})
	}
	code, out, _ := run(t, env, "user", "list", "-o", "json")
	var rows []userRow
	if code != ExitOK || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 {
		t.Errorf("after the refused imports, user list = %d %q; want only the first user", code, out)
	}
}

// TestReadOnlyCommandsNeedADatabase: commands that only read refuse a
// missing SQLite file instead of creating an empty one.
func TestReadOnlyCommandsNeedADatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "nothing-here.db")
	for _, args := range [][]string{{"user", "list"}, {"user", "export"}, {"backup", filepath.Join(dir, "copy.db")}} {
		code, _, errOut := run(t, []string{"ACCOUNTD_DB=" + db}, args...)
		if code != ExitUsage || !strings.Contains(errOut, "no database at "+db) || !strings.Contains(errOut, "--db") {
			t.Errorf("%v = %d %q", args, code, errOut)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the read-only commands left %v behind", entries)
	}
}

func TestBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	env := []string{"ACCOUNTD_DB=" + db}
	if code, _, errOut := run(t, env, "user", "create", "--email", "b@example.com", "--password", pw); code != ExitOK {
		t.Fatal(errOut)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if code, _, errOut := run(t, env, "backup", copyPath); code != ExitOK {
		t.Fatalf("backup = %d %q", code, errOut)
	}
	if fi, err := os.Stat(copyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", err, fi)
	}
	if code, out, _ := run(t, nil, "user", "list", "--db", copyPath); code != ExitOK || !strings.Contains(out, "b@example.com") {
		t.Errorf("user list on the backup = %d %q", code, out)
	}
	if code, _, errOut := run(t, env, "backup", copyPath); code != ExitUsage || !strings.Contains(errOut, "already exists") {
		t.Errorf("backup over a file = %d %q", code, errOut)
	}
	if code, _, errOut := run(t, nil, "backup", "--db", "postgres://x@127.0.0.1:1/none", copyPath+"2"); code != ExitUsage || !strings.Contains(errOut, "pg_dump") {
		t.Errorf("backup of PostgreSQL = %d %q", code, errOut)
	}
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, nil, "--version")
	if code != ExitOK || !strings.HasPrefix(out, "accountd ") {
		t.Errorf("--version = %d %q", code, out)
	}
	code, out, _ = run(t, nil, "version", "-o", "json")
	var b buildInfo
	if code != ExitOK || json.Unmarshal([]byte(out), &b) != nil || b.Version == "" || b.Commit == "" || !strings.HasPrefix(b.Go, "go") {
		t.Errorf("version -o json = %d %q", code, out)
	}
	code, out, _ = run(t, nil, "version")
	if code != ExitOK || !strings.Contains(out, "version") || !strings.Contains(out, "commit") {
		t.Errorf("version = %d %q", code, out)
	}
}

// TestOnlyDocumentedVariables: a flag reads the environment only when it
// has a documented variable, and a required flag may come from its own.
func TestOnlyDocumentedVariables(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "a.db")
	code, _, errOut := run(t, []string{"ACCOUNTD_DB=" + db, "ACCOUNTD_EMAIL=env@example.com"}, "user", "create", "--password", pw)
	if code != ExitUsage || !strings.Contains(errOut, `"email" not set`) {
		t.Errorf("ACCOUNTD_EMAIL is not documented, so --email is still missing: %d %q", code, errOut)
	}
	code, out, errOut := run(t, []string{"ACCOUNTD_DB=" + db, "ACCOUNTD_PASSWORD=" + pw}, "user", "create", "--email", "env@example.com")
	if code != ExitOK || len(strings.TrimSpace(out)) != 24 {
		t.Errorf("--password from ACCOUNTD_PASSWORD = %d %q %q", code, out, errOut)
	}
	_, help, _ := run(t, nil, "user", "create", "--help")
	if strings.Contains(help, "ACCOUNTD_EMAIL") || !strings.Contains(help, "ACCOUNTD_PASSWORD") || !strings.Contains(help, "ACCOUNTD_DB") {
		t.Errorf("user create --help names the wrong variables:\n%s", help)
	}
	_, help, _ = run(t, nil, "serve", "--help")
	if !strings.Contains(help, "--usage-keys-file string") {
		t.Errorf("serve --help garbles --usage-keys-file:\n%s", help)
	}
}

func TestErrorStyle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"ACCOUNTD_DB=" + filepath.Join(dir, "a.db")}
	code, _, errOut := run(t, env, "user", "create", "--email", "s@example.com", "--password", "weakling")
	if code != ExitUsage || !strings.HasPrefix(errOut, "accountd: password: must be") || strings.Contains(errOut, "Validation") {
		t.Errorf("weak password: %d %q", code, errOut)
	}
	// a server that is not there
	code, _, errOut = run(t, []string{"ACCOUNTD_URL=http://127.0.0.1:1", "ACCOUNTD_TOKEN=x", "ACCOUNTD_CONFIG_DIR=" + dir}, "me")
	if code != ExitError || !strings.Contains(errOut, "cannot reach the server at http://127.0.0.1:1") || !strings.Contains(errOut, "--server") {
		t.Errorf("server down: %d %q", code, errOut)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	code, _, errOut = run(t, env, "serve", "--addr", taken.Addr().String(), "--log-level", "error")
	if code != ExitError || !strings.Contains(errOut, "accountd: cannot listen on "+taken.Addr().String()) || !strings.Contains(errOut, "--addr") {
		t.Errorf("serve on a taken address: %d %q", code, errOut)
	}
	code, _, errOut = run(t, nil, "frobnicate")
	if code != ExitUsage || !strings.Contains(errOut, "accountd --help") {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
}

// TestClientCommandsConventions runs the newer client commands and the
// shared conventions against a real server.
func TestClientCommandsConventions(t *testing.T) {
	t.Parallel()
	srv := testenv.Start(t, "sqlite", testenv.Options{AllowUnverifiedEmail: true})
	if _, err := srv.Service.CreateUser(context.Background(), service.NewUser{Email: "conv@example.com", Password: testenv.Password}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := remote{t: t, env: []string{"ACCOUNTD_URL=" + srv.URL, "ACCOUNTD_CONFIG_DIR=" + dir, "ACCOUNTD_SCOPE=me.get"}}
	if code, _, errOut := r.run("conv@example.com\n"+testenv.Password+"\n", "login"); code != ExitOK {
		t.Fatalf("login = %d %q", code, errOut)
	}
	// ACCOUNTD_SCOPE is no documented variable: the token gets the default scope
	code, out, errOut := r.run("", "tokens", "create", "--name", "d", "-o", "json")
	var tok client.APIToken
	if code != ExitOK || json.Unmarshal([]byte(out), &tok) != nil || strings.Join(tok.Scope, ",") != "all.User" {
		t.Fatalf("tokens create with ACCOUNTD_SCOPE set = %d %q %q; want scope all.User", code, out, errOut)
	}
	code, out, _ = r.run("", "tokens", "revoke", tok.ID, "-o", "json")
	var ok client.Success
	if code != ExitOK || json.Unmarshal([]byte(out), &ok) != nil || !ok.Success {
		t.Errorf("tokens revoke -o json = %d %q", code, out)
	}
	code, _, errOut = r.run("", "tokens", "get", tok.ID)
	if code != ExitNotFound || errOut != "accountd: API token was not found\n" {
		t.Errorf("tokens get of a revoked token = %d %q", code, errOut)
	}

	// me shows the whole profile
	if code, _, _ := r.run("", "me", "patch", "--company-name", "Acme", "--location", "Dublin"); code != ExitOK {
		t.Fatal("me patch failed")
	}
	code, out, _ = r.run("", "me")
	for _, want := range []string{"Acme", "Dublin", "First name", "Last updated"} {
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("me table lacks %q:\n%s", want, out)
		}
	}

	// token refresh keeps the fresh token
	before, _ := os.ReadFile(filepath.Join(dir, "credentials.json"))
	if code, out, errOut := r.run("", "token", "refresh"); code != ExitOK || !strings.Contains(out, "Refreshed") {
		t.Fatalf("token refresh = %d %q %q", code, out, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "credentials.json"))
	if string(before) == string(after) {
		t.Error("token refresh did not save a new token")
	}
	if code, _, errOut := r.run("", "me"); code != ExitOK {
		t.Errorf("me with the refreshed token = %d %q", code, errOut)
	}

	// email verification: a message lands in the outbox
	if code, out, errOut := r.run("", "verify-email", "-o", "json"); code != ExitOK || !strings.Contains(out, `"success": true`) {
		t.Errorf("verify-email = %d %q %q", code, out, errOut)
	}
	// GitHub is off on this server: the 400 says so, in one line
	if code, _, errOut := r.run("", "github", "link"); code != ExitUsage || strings.Count(errOut, "accountd:") != 1 {
		t.Errorf("github link without GitHub configured = %d %q", code, errOut)
	}

	// two-factor auth: enable with a code computed from the key shown
	var stdout, stderr strings.Builder
	stdin := &lazyReader{fill: func() string {
		_, rest, _ := strings.Cut(stdout.String(), "by hand: ")
		key, _, _ := strings.Cut(rest, "\n")
		code, err := secret.TOTPCode(key, time.Now())
		if err != nil {
			t.Errorf("the key shown, %q: %v", key, err)
		}
		return testenv.Password + "\n" + code + "\n"
	}}
	code = Run(context.Background(), []string{"2fa", "enable"}, r.env, stdin, &stdout, &stderr)
	out = stdout.String()
	if code != ExitOK || !strings.Contains(out, "█") || !strings.Contains(out, "Two-factor authentication is on") {
		t.Fatalf("2fa enable = %d %q %q", code, out, stderr.String())
	}
	recovery := strings.Fields(out[strings.Index(out, "shown only now):"):])[3]
	code, out, errOut = r.run(testenv.Password+"\n"+recovery+"\n", "2fa", "recovery-codes", "-o", "json")
	var codes struct{ RecoveryCodes []string }
	if code != ExitOK || json.Unmarshal([]byte(out), &codes) != nil || len(codes.RecoveryCodes) != 10 {
		t.Errorf("2fa recovery-codes with a recovery code = %d %q %q", code, out, errOut)
	}
	next, _ := secret.TOTPCode(strings.Fields(stdout.String()[strings.Index(stdout.String(), "by hand: "):])[2], time.Now().Add(secret.TOTPPeriod*time.Second))
	if code, out, errOut = r.run(testenv.Password+"\n"+next+"\n", "2fa", "disable"); code != ExitOK || !strings.Contains(out, "off") {
		t.Errorf("2fa disable = %d %q %q", code, out, errOut)
	}

	// account delete: typed confirmation, then the password
	if code, _, errOut = r.run("someone@else.example\n", "account", "delete"); code != ExitUsage || !strings.Contains(errOut, "nothing was deleted") {
		t.Errorf("account delete with a wrong confirmation = %d %q", code, errOut)
	}
	if code, out, errOut = r.run("conv@example.com\n"+testenv.Password+"\n", "account", "delete"); code != ExitOK || !strings.Contains(out, "Deleted") {
		t.Fatalf("account delete = %d %q %q", code, out, errOut)
	}
	if code, _, errOut = r.run("", "me"); code != ExitAuth || !strings.Contains(errOut, "not logged in") {
		t.Errorf("me after account delete = %d %q; want the kept token forgotten", code, errOut)
	}
}

// lazyReader produces its input when first read, once what it depends on
// has been printed.
type lazyReader struct {
	fill func() string
	r    *strings.Reader
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.r == nil {
		l.r = strings.NewReader(l.fill())
	}
	return l.r.Read(p)
}

// TestCompletionValues asks the completion machinery as a shell would
// (cobra's hidden __complete command).
func TestCompletionValues(t *testing.T) {
	t.Parallel()
	srv := testenv.Start(t, "sqlite", testenv.Options{})
	srv.User(t, "comp@example.com")
	c := srv.Login(t, "comp@example.com")
	tok, err := c.UserAPITokens.Post(context.Background(), client.APITokenPost{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"ACCOUNTD_URL=" + srv.URL, "ACCOUNTD_TOKEN=" + c.Token(), "ACCOUNTD_CONFIG_DIR=" + t.TempDir()}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"tokens", "revoke", ""}, []string{tok.ID + "\tci"}},
		{[]string{"tokens", "create", "--scope", "me.get,userApiTok"}, []string{"me.get,userApiToken.get", "me.get,all.User"}},
		{[]string{"tokens", "update", "x", "--status", ""}, []string{"active", "inactive"}},
		{[]string{"recent", ""}, []string{"application", "device", "flow"}},
		{[]string{"orgs", "invite", "x", "--role", ""}, []string{"admin", "view"}},
		{[]string{"serve", "--log-format", ""}, []string{"json", "text"}},
		{[]string{"me", "-o", ""}, []string{"table", "json"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := run(t, env, append([]string{"__complete"}, tt.args...)...)
			lines := strings.Split(out, "\n")
			for _, w := range tt.want {
				if code != ExitOK || !slices.Contains(lines, w) {
					t.Errorf("= %d, offers %q (%s); want %q among them", code, lines, errOut, w)
				}
			}
		})
	}
}

// TestUserImportPostgres runs import, its all-or-nothing refusal and
// export on PostgreSQL (skipped without one).
func TestUserImportPostgres(t *testing.T) {
	t.Parallel()
	if !pgtest.Available() {
		t.Skip("no PostgreSQL: set " + pgtest.EnvVar)
	}
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.ndjson",
		`{"email":"pg1@example.com","emailVerified":true,"passwordHash":"`+djangoHash+`"}`,
		`{"email":"pg2@example.com","passwordHash":"`+scryptHash+`"}`)
	if code, out, errOut := run(t, nil, "user", "import", "--db", dsn, good); code != ExitOK || !strings.Contains(out, "imported 2 users") {
		t.Fatalf("user import = %d %q %q", code, out, errOut)
	}
	// the second line's email is taken in the database: the first line
	// must not land either
	bad := writeFile(t, dir, "bad.ndjson",
		`{"email":"pg3@example.com","passwordHash":"`+djangoHash+`"}`,
		`{"email":"PG1@example.com","passwordHash":"`+djangoHash+`"}`)
	if code, _, errOut := run(t, nil, "user", "import", "--db", dsn, bad); code != ExitUsage || !strings.Contains(errOut, "line 2: email or id") {
		t.Errorf("import of a taken email = %d %q", code, errOut)
	}
	code, out, _ := run(t, nil, "user", "export", "--db", dsn)
	if code != ExitOK || strings.Count(out, "\n") != 2 || strings.Contains(out, "pg3@") {
		t.Errorf("export after the refused import = %d %q; want only the first two users", code, out)
	}
}

// TestOperatorJSON: -o json on the operator commands that act.
func TestOperatorJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"ACCOUNTD_DB=" + filepath.Join(dir, "a.db")}
	var created struct{ ID string }
	code, out, _ := run(t, env, "user", "create", "--email", "j@example.com", "--password", pw, "-o", "json")
	if code != ExitOK || json.Unmarshal([]byte(out), &created) != nil || len(created.ID) != 24 {
		t.Errorf("user create -o json = %d %q", code, out)
	}
	file := writeFile(t, dir, "u.ndjson", `{"email":"k@example.com","passwordHash":"`+djangoHash+`"}`)
	for _, tt := range []struct {
		args []string
		key  string
	}{
		{[]string{"user", "import", file}, `"imported": 1`},
		{[]string{"migrate"}, `"upToDate": true`},
		{[]string{"backup", filepath.Join(dir, "copy.db")}, `"backup": "`},
		{[]string{"keys", "generate"}, `"key": "`},
		{[]string{"usage", "keygen", "svc"}, `"keysFileLine": "svc `},
	} {
		code, out, errOut := run(t, env, append(tt.args, "-o", "json")...)
		var v map[string]any
		if code != ExitOK || json.Unmarshal([]byte(out), &v) != nil || !strings.Contains(out, tt.key) {
			t.Errorf("%v -o json = %d %q %q", tt.args, code, out, errOut)
		}
	}
}
