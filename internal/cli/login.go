package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/accountd/accountd/client"
	"github.com/spf13/cobra"
)

func loginCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	var email string
	var ttl int64
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to a server and keep the token for the other client commands",
		Long: `Log in to a server. The password (and a two-factor code, when the account
needs one) is asked for without echo. The token is kept in the user's config
directory (~/.config/accountd/credentials.json, mode 0600).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.checkOutput(); err != nil {
				return err
			}
			saved, err := f.loadCredentials()
			if err != nil {
				return err
			}
			server := f.serverURL(saved)
			c, err := client.New(server, client.WithUserAgent("accountd-cli/"+readBuildInfo().Version))
			if err != nil {
				return usageError{err}
			}
			p := newPrompter(cmd)
			if email == "" {
				if email, err = p.ask(cmd.Context(), "Email: ", false); err != nil {
					return err
				}
			}
			password, err := p.ask(cmd.Context(), "Password: ", true)
			if err != nil {
				return err
			}
			creds := client.UserCredentials{Email: email, Password: password}
			if ttl > 0 {
				creds.TokenTTL = &ttl
			}
			a, err := c.Auth.AuthenticateUser(cmd.Context(), creds)
			var ce *client.Error
			if errors.As(err, &ce) && ce.StatusCode == 401 && strings.Contains(ce.Message, "code") {
				// the account has two-factor authentication: ask and retry once
				if creds.TwoFactorCode, err = p.ask(cmd.Context(), "Two-factor code: ", true); err != nil {
					return err
				}
				a, err = c.Auth.AuthenticateUser(cmd.Context(), creds)
			}
			if err != nil {
				return remoteError(err)
			}
			if err := f.saveCredentials(credentials{Server: server, UserID: a.UserID, Email: email, Token: a.Token}); err != nil {
				return err
			}
			return f.done(cmd.OutOrStdout(), map[string]string{"server": server, "email": email, "userId": a.UserID},
				fmt.Sprintf("Logged in to %s as %s (%s).", server, email, a.UserID))
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&email, "email", "", "account email (asked for when not given)")
	cmd.Flags().Int64Var(&ttl, "ttl", 0, "token life in seconds (default: the server's)")
	return cmd
}

func logoutCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget the token `accountd login` kept",
		Long: `Forget the kept token. The token itself stays valid until it expires; to
end every session at once, run ` + "`accountd me patch --token-cutoff now`" + ` first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := f.credentialsPath()
			if err != nil {
				return err
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			return f.done(cmd.OutOrStdout(), client.Success{Success: true}, "Logged out.")
		},
	}
	f.register(cmd)
	return cmd
}
