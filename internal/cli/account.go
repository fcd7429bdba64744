package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/accountd/accountd/client"
	"github.com/boombuler/barcode/qr"
	"github.com/spf13/cobra"
)

// Client commands for two-factor authentication, email verification,
// account deletion, the GitHub link and token refresh.

func twoFactorCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{Use: "2fa", Short: "Two-factor authentication (TOTP) of your account"}
	f.register(cmd)

	enable := remoteCmd(f, "enable", "Turn two-factor authentication on: scan the QR code, then type a code", cobra.NoArgs,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			info, err := c.Me.GenerateTwoFactorAuth(cmd.Context())
			if err != nil {
				return err
			}
			// with -o json, stdout carries only the answer
			show := cmd.OutOrStdout()
			if f.output == "json" {
				show = cmd.ErrOrStderr()
			}
			fmt.Fprintln(show, "Scan this with an authenticator app:")
			if err := drawQR(show, info.KeyURI); err != nil {
				return err
			}
			fmt.Fprintf(show, "or enter the key by hand: %s\n\n", info.Key)
			p := newPrompter(cmd)
			pw, err := p.ask(cmd.Context(), "Password: ", true)
			if err != nil {
				return err
			}
			code, err := p.ask(cmd.Context(), "Code from the app: ", false)
			if err != nil {
				return err
			}
			me, err := c.Me.EnableTwoFactorAuth(cmd.Context(), client.MultiFactorAuthEnable{Password: pw, TwoFactorCode: code, TwoFactorAuthKey: info.Key})
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), me, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "Two-factor authentication is on. Recovery codes (each works once in place of a code; shown only now):")
				for _, rc := range me.RecoveryCodes {
					fmt.Fprintln(tw, rc)
				}
			})
		})

	disable := remoteCmd(f, "disable", "Turn two-factor authentication off (asks for the password and a code)", cobra.NoArgs,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			d, err := askPasswordAndCode(cmd)
			if err != nil {
				return err
			}
			me, err := c.Me.DisableTwoFactorAuth(cmd.Context(), d)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), me, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "Two-factor authentication is off.")
			})
		})

	codes := remoteCmd(f, "recovery-codes", "Replace the recovery codes with ten new ones (asks for the password and a code)", cobra.NoArgs,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			d, err := askPasswordAndCode(cmd)
			if err != nil {
				return err
			}
			rc, err := c.Me.RegenerateRecoveryCodes(cmd.Context(), d)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), map[string]any{"recoveryCodes": rc}, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "New recovery codes (the old ones no longer work; shown only now):")
				for _, code := range rc {
					fmt.Fprintln(tw, code)
				}
			})
		})
	cmd.AddCommand(enable, disable, codes)
	return cmd
}

func askPasswordAndCode(cmd *cobra.Command) (client.MultiFactorAuthDisable, error) {
	p := newPrompter(cmd)
	pw, err := p.ask(cmd.Context(), "Password: ", true)
	if err != nil {
		return client.MultiFactorAuthDisable{}, err
	}
	code, err := p.ask(cmd.Context(), "Two-factor code (or a recovery code): ", true)
	return client.MultiFactorAuthDisable{Password: pw, TwoFactorCode: code}, err
}

// drawQR draws content as a QR code with half-block characters, two rows
// of modules a line, light modules drawn and a quiet zone around, as on a
// dark terminal; most scanners read the inverse too.
func drawQR(w io.Writer, content string) error {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return fmt.Errorf("drawing the QR code: %w", err)
	}
	const quiet = 2
	n := code.Bounds().Dx()
	light := func(x, y int) bool {
		if x < 0 || y < 0 || x >= n || y >= n {
			return true
		}
		r, _, _, _ := code.At(x, y).RGBA()
		return r > 0x7fff
	}
	var b strings.Builder
	for y := -quiet; y < n+quiet; y += 2 {
		for x := -quiet; x < n+quiet; x++ {
			top, bottom := light(x, y), light(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func verifyEmailCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := remoteCmd(f, "verify-email", "Send a link that verifies your email address (at most one a minute)", cobra.NoArgs,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			if err := c.Me.VerifyEmail(cmd.Context()); err != nil {
				return err
			}
			return f.done(cmd.OutOrStdout(), client.Success{Success: true}, "Sent a verification link to your email address; it works once, for a day.")
		})
	f.register(cmd)
	return cmd
}

func accountCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{Use: "account", Short: "Your account as a whole"}
	f.register(cmd)
	var yes bool
	del := remoteCmd(f, "delete", "Delete your account for good (asks for the password, and a code with two-factor auth)", cobra.NoArgs,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			me, err := c.Me.Get(cmd.Context(), nil)
			if err != nil {
				return err
			}
			p := newPrompter(cmd)
			if !yes {
				answer, err := p.ask(cmd.Context(), fmt.Sprintf("Delete the account %s and everything it owns alone? Type its email to confirm: ", me.Email), false)
				if err != nil {
					return err
				}
				if !strings.EqualFold(strings.TrimSpace(answer), me.Email) {
					return usageError{errors.New("the email typed differs: nothing was deleted")}
				}
			}
			creds := client.UserCredentials{Email: me.Email}
			if creds.Password, err = p.ask(cmd.Context(), "Password: ", true); err != nil {
				return err
			}
			if me.TwoFactorAuthEnabled {
				if creds.TwoFactorCode, err = p.ask(cmd.Context(), "Two-factor code (or a recovery code): ", true); err != nil {
					return err
				}
			}
			if err := c.Me.Delete(cmd.Context(), creds); err != nil {
				return err
			}
			if saved, err := f.loadCredentials(); err == nil && saved.UserID == me.ID {
				if path, err := f.credentialsPath(); err == nil {
					os.Remove(path)
				}
			}
			return f.done(cmd.OutOrStdout(), client.Success{Success: true}, fmt.Sprintf("Deleted the account %s.", me.Email))
		})
	del.Flags().BoolVar(&yes, "yes", false, "do not ask to type the email to confirm")
	cmd.AddCommand(del)
	return cmd
}

func githubCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{Use: "github", Short: "Link a GitHub account to yours, or unlink it"}
	f.register(cmd)
	cmd.AddCommand(
		remoteCmd(f, "link", "Print the URL to open in a browser to link a GitHub account", cobra.NoArgs,
			func(cmd *cobra.Command, c *client.Client, _ []string) error {
				u, err := c.Me.ConnectGithub(cmd.Context())
				if err != nil {
					return err
				}
				return f.print(cmd.OutOrStdout(), map[string]string{"authorizeUrl": u}, func(tw *tabwriter.Writer) {
					fmt.Fprintf(tw, "Open this in a browser signed in to GitHub, then confirm on the page it leads to:\n%s\n", u)
				})
			}),
		remoteCmd(f, "unlink", "Remove the GitHub link", cobra.NoArgs,
			func(cmd *cobra.Command, c *client.Client, _ []string) error {
				me, err := c.Me.DisconnectGithub(cmd.Context())
				if err != nil {
					return err
				}
				return f.print(cmd.OutOrStdout(), me, func(tw *tabwriter.Writer) {
					fmt.Fprintln(tw, "GitHub is unlinked.")
				})
			}),
	)
	return cmd
}

// tokenCmd is the token in use, as opposed to `tokens`, the API tokens.
func tokenCmd(e env) *cobra.Command {
	f := &remoteFlags{env: e}
	cmd := &cobra.Command{Use: "token", Short: "The token this CLI signs in with"}
	f.register(cmd)
	cmd.AddCommand(remoteCmd(f, "refresh", "Swap the token in use for a fresh one with the same scope (GET /me/refreshToken)", cobra.NoArgs,
		func(cmd *cobra.Command, c *client.Client, _ []string) error {
			a, err := c.Me.RefreshToken(cmd.Context())
			if err != nil {
				return err
			}
			saved, err := f.loadCredentials()
			if err != nil {
				return err
			}
			if f.env["ACCOUNTD_TOKEN"] != "" || saved.Token == "" {
				// the token came from the environment: hand the new one back
				return f.print(cmd.OutOrStdout(), a, func(tw *tabwriter.Writer) { fmt.Fprintln(tw, a.Token) })
			}
			saved.Token = a.Token
			if err := f.saveCredentials(saved); err != nil {
				return err
			}
			return f.done(cmd.OutOrStdout(), map[string]any{"userId": a.UserID, "saved": true}, "Refreshed the saved token.")
		}))
	return cmd
}
