package cli

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/service"
	"github.com/accountd/accountd/sqlite"
)

func TestUsageImport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	env := []string{"ACCOUNTD_DB=" + db}
	code, out, errOut := run(t, env, "user", "create", "--email", "ops@example.com", "--password", pw, "--verified")
	if code != ExitOK {
		t.Fatalf("user create = %d: %s", code, errOut)
	}
	userID := strings.TrimSpace(out)

	// an application to report usage of, made straight in the store
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := &accountd.Application{Owned: accountd.Owned{ID: accountd.NewID(now), OwnerType: accountd.OwnerUser, OwnerID: userID,
		Name: "Meters", CreatedAt: now, UpdatedAt: now}}
	if err := st.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	st.Close()

	at := time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC)
	lines := []string{
		fmt.Sprintf(`{"id":"b:1","kind":"payload","time":%d,"applicationId":"%s","type":"mqttIn","source":"mqtt","count":7,"bytes":70}`, at.UnixMilli(), app.ID),
		"",
		fmt.Sprintf(`{"id":"b:2","kind":"payload","time":%d,"applicationId":"%s","type":"mqttIn","source":"mqtt"}`, at.UnixMilli(), app.ID),
		fmt.Sprintf(`{"id":"n:1","kind":"notebookRun","time":%d,"applicationId":"%s","minutes":0.2,"status":"timeout"}`, at.UnixMilli(), app.ID),
	}
	file := filepath.Join(dir, "usage.ndjson")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, env, "usage", "import", file)
	if code != ExitOK || !strings.Contains(out, "read 3 events: recorded 3") {
		t.Fatalf("usage import = %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, env, "usage", "import", file)
	if code != ExitOK || !strings.Contains(out, "recorded 0, skipped 3") {
		t.Errorf("importing again = %d %q, want everything skipped", code, out)
	}

	// a bad line stops the import and names the line; nothing of its batch lands
	bad := filepath.Join(dir, "bad.ndjson")
	os.WriteFile(bad, []byte(strings.Replace(lines[0], `"b:1"`, `"c:1"`, 1)+"\n"+
		strings.Replace(strings.Replace(lines[2], `"b:2"`, `"c:2"`, 1), "mqttIn", "smoke", 1)+"\n"), 0o600)
	code, _, errOut = run(t, env, "usage", "import", bad)
	if code != ExitUsage || !strings.Contains(errOut, "line 2.type") {
		t.Errorf("bad type = %d %q, want exit %d naming line 2.type", code, errOut, ExitUsage)
	}
	os.WriteFile(bad, []byte("{not json\n"), 0o600)
	if code, _, errOut = run(t, env, "usage", "import", bad); code == ExitOK || !strings.Contains(errOut, "line 1") {
		t.Errorf("bad JSON = %d %q", code, errOut)
	}

	// what was imported shows through the API, on the same database
	st, err = sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the server stops
	srv := testenv.Start(t, "sqlite", testenv.Options{Store: st})
	c := srv.LoginWith(t, "ops@example.com", pw)
	q := client.UsageQuery{Start: at.Add(-time.Hour), End: at.Add(time.Hour)}
	stats, err := c.Me.PayloadCounts(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := stats["mqttIn"]["mqtt"]; got != 8 || stats.Total("") != 8 {
		t.Errorf("GET /me/payloadCounts after the import = %v, want mqttIn/mqtt 8 and nothing else", stats)
	}
	q.AsBytes = true
	if stats, err = c.Me.PayloadCounts(ctx, q); err != nil || stats["mqttIn"]["mqtt"] != 70 {
		t.Errorf("payloadCounts asBytes = %v, %v, want mqttIn/mqtt 70", stats, err)
	}
	runs, err := c.Me.NotebookMinuteCounts(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs.Counts) != 1 || runs.Counts[0].Minutes != 1 || runs.Counts[0].Timeout != 1 || runs.Counts[0].Completed != 0 {
		t.Errorf("GET /me/notebookMinuteCounts after the import = %+v, want one timed-out run of 1 minute", runs.Counts)
	}
}

func TestUsageKeygen(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, nil, "usage", "keygen", "mqtt-broker")
	if code != ExitOK {
		t.Fatalf("keygen = %d %q", code, errOut)
	}
	var key, line string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		switch {
		case strings.HasPrefix(l, "#"):
		case key == "":
			key = l
		default:
			line = l
		}
	}
	keys, err := service.ParseUsageKeys(strings.NewReader(line))
	if err != nil || len(keys) != 1 || keys[0].Name != "mqtt-broker" || keys[0].Hash != sha256.Sum256([]byte(key)) {
		t.Errorf("keygen printed key %q and line %q (%v): the line must name the key's SHA-256", key, line, err)
	}
	if code, _, errOut = run(t, nil, "usage", "keygen", "bad name"); code != ExitUsage || !strings.Contains(errOut, "name") {
		t.Errorf("keygen with a bad name = %d %q", code, errOut)
	}
}
