package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Client commands talk to a running server through the SDK. The token comes
// from ACCOUNTD_TOKEN or from the credentials `accountd login` saved.

// ExitAuth means the server refused the credentials or the token's scope:
// log in again.
const ExitAuth = 4

const defaultServer = "http://127.0.0.1:8080"

// remoteFlags are shared by every client command.
type remoteFlags struct {
	env    env
	server string
	output string
}

func (f *remoteFlags) register(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.server, "server", "", "server URL (env ACCOUNTD_URL; default: the one logged in to, else "+defaultServer+")")
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "table", "table or json")
	cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// credentials are what `accountd login` keeps, mode 0600.
type credentials struct {
	Server string `json:"server"`
	UserID string `json:"userId"`
	Email  string `json:"email"`
	Token  string `json:"token"`
}

// configDir follows the XDG convention: ACCOUNTD_CONFIG_DIR, else
// $XDG_CONFIG_HOME/accountd, else ~/.config/accountd.
func (f *remoteFlags) configDir() (string, error) {
	if d := f.env["ACCOUNTD_CONFIG_DIR"]; d != "" {
		return d, nil
	}
	if d := f.env["XDG_CONFIG_HOME"]; d != "" {
		return filepath.Join(d, "accountd"), nil
	}
	if h := f.env["HOME"]; h != "" {
		return filepath.Join(h, ".config", "accountd"), nil
	}
	return "", errors.New("no config directory: set HOME, XDG_CONFIG_HOME or ACCOUNTD_CONFIG_DIR")
}

func (f *remoteFlags) credentialsPath() (string, error) {
	d, err := f.configDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "credentials.json"), nil
}

func (f *remoteFlags) loadCredentials() (credentials, error) {
	var c credentials
	path, err := f.credentialsPath()
	if err != nil {
		return c, err
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func (f *remoteFlags) saveCredentials(c credentials) error {
	path, err := f.credentialsPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	raw, _ := json.MarshalIndent(c, "", "  ")
	// Write beside and rename, so a crash never leaves half a file, and
	// create with 0600 so the token is never readable by others.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// serverURL picks --server, then ACCOUNTD_URL, then the saved server.
func (f *remoteFlags) serverURL(saved credentials) string {
	switch {
	case f.server != "":
		return f.server
	case f.env["ACCOUNTD_URL"] != "":
		return f.env["ACCOUNTD_URL"]
	case saved.Server != "":
		return saved.Server
	}
	return defaultServer
}

// client builds an SDK client with the token in use.
func (f *remoteFlags) client() (*client.Client, error) {
	if err := f.checkOutput(); err != nil {
		return nil, err
	}
	saved, err := f.loadCredentials()
	if err != nil {
		return nil, err
	}
	token := f.env["ACCOUNTD_TOKEN"]
	if token == "" {
		token = saved.Token
	}
	if token == "" {
		return nil, authError{errors.New("not logged in: run `accountd login` or set ACCOUNTD_TOKEN")}
	}
	c, err := client.New(f.serverURL(saved), client.WithToken(token), client.WithUserAgent("accountd-cli/"+readBuildInfo().Version))
	if err != nil {
		return nil, usageError{fmt.Errorf("%w: give --server or ACCOUNTD_URL as http(s)://host:port", err)}
	}
	return c, nil
}

// authError exits with ExitAuth.
type authError struct{ error }

// remoteError turns an SDK error (from the server, or the SDK's own check of
// an argument) into one whose exit code scripts can use.
func remoteError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && !errors.Is(err, context.Canceled) {
		server := ue.URL
		if u, perr := url.Parse(ue.URL); perr == nil {
			server = u.Scheme + "://" + u.Host
		}
		why := "no answer"
		var op *net.OpError
		switch {
		case ue.Timeout():
			why = "it did not answer in time"
		case errors.As(err, &op):
			why = op.Err.Error()
		}
		return fmt.Errorf("cannot reach the server at %s (%s): start it, or point elsewhere with --server or ACCOUNTD_URL", server, why)
	}
	msg := err.Error()
	var ae *accountd.Error
	if errors.As(err, &ae) && ae.Message != "" {
		msg = ae.Message
	}
	switch accountd.ErrorCode(err) {
	case accountd.CodeUnauthorized, accountd.CodeForbidden:
		return authError{errors.New(msg)}
	case accountd.CodeNotFound:
		return notFoundError{errors.New(msg)}
	case accountd.CodeInvalid, accountd.CodeConflict:
		return usageError{errors.New(msg)}
	}
	return err
}

func (f *remoteFlags) checkOutput() error {
	if f.output != "table" && f.output != "json" {
		return usageError{fmt.Errorf("--output: %q is not table or json", f.output)}
	}
	return nil
}

// addOutputFlag adds -o/--output table|json.
func addOutputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", "table", "table or json")
	cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// outputFlag gives an operator command -o/--output: its result as a
// sentence, or as JSON.
func outputFlag(cmd *cobra.Command) *remoteFlags {
	f := &remoteFlags{}
	addOutputFlag(cmd, &f.output)
	return f
}

// done reports an action that answers nothing worth a table: v as JSON, or
// the sentence.
func (f *remoteFlags) done(w io.Writer, v any, sentence string) error {
	if f.output == "json" {
		return f.print(w, v, nil)
	}
	_, err := fmt.Fprintln(w, sentence)
	return err
}

// print writes v as JSON, or as a table through table when --output=table.
func (f *remoteFlags) print(w io.Writer, v any, table func(tw *tabwriter.Writer)) error {
	if f.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// prompt asks for one line; secret lines are not echoed on a terminal.
type prompter struct {
	in  io.Reader
	out io.Writer
	rd  *bufio.Reader
}

func newPrompter(cmd *cobra.Command) *prompter {
	return &prompter{in: cmd.InOrStdin(), out: cmd.ErrOrStderr()}
}

func (p *prompter) ask(ctx context.Context, label string, secret bool) (string, error) {
	fmt.Fprint(p.out, label)
	if f, ok := p.in.(*os.File); ok && secret && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.out)
		return string(b), err
	}
	if p.rd == nil {
		p.rd = bufio.NewReader(p.in)
	}
	line, err := p.rd.ReadString('\n')
	if secret {
		fmt.Fprintln(p.out)
	}
	if err != nil && line == "" {
		return "", usageError{fmt.Errorf("%sno answer on standard input", strings.ToLower(label))}
	}
	return strings.TrimRight(line, "\r\n"), nil
}
