package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/service"
	"github.com/spf13/cobra"
)

// TestSecurityLogCommand reads the log from the terminal: the table, JSON,
// the kind filter and the refusals of bad flags.
func TestSecurityLogCommand(t *testing.T) {
	t.Parallel()
	srv := testenv.Start(t, "sqlite", testenv.Options{})
	srv.User(t, "sue@example.com")
	r := remote{t: t, env: []string{"ACCOUNTD_URL=" + srv.URL, "ACCOUNTD_CONFIG_DIR=" + t.TempDir()}}
	if code, _, errOut := r.run(testenv.Password+"\n", "login", "--email", "sue@example.com"); code != ExitOK {
		t.Fatalf("login = %d %s", code, errOut)
	}
	if code, _, errOut := r.run("", "tokens", "create", "--name", "laptop"); code != ExitOK {
		t.Fatalf("tokens create = %d %s", code, errOut)
	}

	code, out, errOut := r.run("", "security-log")
	if code != ExitOK || !strings.Contains(out, "TIME") || !strings.Contains(out, "token.created") ||
		!strings.Contains(out, "name=laptop") || !strings.Contains(out, "login.succeeded") || !strings.Contains(out, "127.0.0.1") {
		t.Fatalf("security-log = %d %q %s", code, out, errOut)
	}
	code, out, errOut = r.run("", "security-log", "--kind", "token.created", "--since", "1h", "-o", "json")
	var l struct {
		TotalCount int
		Items      []struct{ Kind, Address, UserAgent string }
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &l) != nil || l.TotalCount != 1 || l.Items[0].Kind != "token.created" || l.Items[0].UserAgent == "" {
		t.Fatalf("security-log --kind -o json = %d %q %s", code, out, errOut)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"security-log", "--since", "last week"}, ExitUsage, "--since"},
		{[]string{"security-log", "--kind", "nope"}, ExitUsage, "kind"},
		{[]string{"security-log", "--per-page", "5000"}, ExitUsage, "perPage"},
	} {
		if code, _, errOut := r.run("", tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v = %d %q, want %d naming %s", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestSecurityLogFlags: serve's flags and their variables reach the
// service's configuration; values out of bounds are refused naming the flag.
func TestSecurityLogFlags(t *testing.T) {
	t.Parallel()
	parse := func(args []string, vars env) (service.SecurityLogConfig, error) {
		t.Helper()
		cmd := &cobra.Command{Use: "serve"}
		var f securityLogFlags
		f.register(cmd.Flags())
		withEnv(cmd.Flags())
		if err := cmd.Flags().Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := bindEnv(cmd, vars); err != nil {
			return service.SecurityLogConfig{}, err
		}
		return f.config()
	}
	for _, tc := range []struct {
		name string
		args []string
		vars env
		want service.SecurityLogConfig
		err  string
	}{
		{name: "defaults", want: service.SecurityLogConfig{Retention: 90 * 24 * time.Hour, NoticeEvery: 5 * time.Minute}},
		{name: "flags", args: []string{"--security-log-retention", "720h", "--notice-interval", "1m", "--notify-new-address=false"},
			want: service.SecurityLogConfig{Retention: 720 * time.Hour, NoticeEvery: time.Minute, NoNewAddressNotice: true}},
		{name: "environment", vars: env{"ACCOUNTD_SECURITY_LOG_RETENTION": "48h", "ACCOUNTD_NOTIFY_NEW_ADDRESS": "false"},
			want: service.SecurityLogConfig{Retention: 48 * time.Hour, NoticeEvery: 5 * time.Minute, NoNewAddressNotice: true}},
		{name: "retention too short", args: []string{"--security-log-retention", "10m"}, err: "--security-log-retention"},
		{name: "interval too short", args: []string{"--notice-interval", "1ms"}, err: "--notice-interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(tc.args, tc.vars)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("config = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
