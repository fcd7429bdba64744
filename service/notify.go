package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

// Notifications tell a user by email what happened to their account, when
// and from where, and what to do if it was not them. Which kinds notify is
// decided here; how often, by the database (ClaimNotice), per user and
// kind.

// noticeTokenExpiring is the notification kind of expiry reminders, which
// are not log entries.
const noticeTokenExpiring = "token.expiring"

// consolePath is where the web console is served (console.Prefix); the
// messages point to its pages.
const consolePath = "/account"

// notice is one message about an event.
type notice struct {
	subject string
	what    string // one or more sentences: what happened
	extraTo string // another address that gets the message too (the old email)
}

// noticeFor says which message an event calls for, if any.
func (s *Service) noticeFor(e *accountd.SecurityEvent) (notice, bool) {
	switch e.Kind {
	case accountd.SecPasswordChanged:
		return notice{subject: "Your password was changed", what: "The password of your account was changed."}, true
	case accountd.SecEmailChanged:
		return notice{subject: "Your email address was changed",
			what:    fmt.Sprintf("The email address of your account was changed from %s to %s.", e.Detail["from"], e.Detail["to"]),
			extraTo: e.Detail["from"]}, true
	case accountd.SecTwoFactorDisabled:
		return notice{subject: "Two-factor authentication was turned off",
			what: "Two-factor authentication was turned off for your account: a password alone now signs in."}, true
	case accountd.SecRecoveryCodeUsed:
		return notice{subject: "A recovery code was used",
			what: "One of your two-factor recovery codes was used, and cannot be used again."}, true
	case accountd.SecTokenCreated:
		return notice{subject: "A personal API token was created",
			what: fmt.Sprintf("A personal API token named %q was created for your account.", e.Detail["name"])}, true
	case accountd.SecLoginSucceeded:
		if e.Detail["newAddress"] != "true" || s.cfg.SecurityLog.NoNewAddressNotice {
			return notice{}, false
		}
		return notice{subject: "New sign-in to your account",
			what: "Your account was signed in to from an address it was not signed in from before."}, true
	}
	return notice{}, false
}

// notify sends the message e calls for, unless one of its kind went to the
// user within NoticeEvery. A failure is logged: the change happened.
func (s *Service) notify(ctx context.Context, e *accountd.SecurityEvent) {
	n, ok := s.noticeFor(e)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	m := s.cfg.Security.Mailer
	if m == nil {
		return
	}
	won, err := s.store.ClaimNotice(ctx, e.UserID, e.Kind, e.At, s.cfg.SecurityLog.NoticeEvery)
	if err != nil {
		s.log.ErrorContext(ctx, "claiming a notification", "kind", e.Kind, "user", e.UserID, "err", err)
		return
	}
	if !won {
		s.log.DebugContext(ctx, "notification skipped: one of its kind was sent lately", "kind", e.Kind, "user", e.UserID)
		return
	}
	u, err := s.store.User(ctx, e.UserID)
	if err != nil {
		s.log.ErrorContext(ctx, "reading the user to notify", "kind", e.Kind, "user", e.UserID, "err", err)
		return
	}
	text := s.noticeText(u, n.what, e)
	for _, to := range []string{u.Email, n.extraTo} {
		if to == "" || (to != u.Email && accountd.EmailKey(to) == accountd.EmailKey(u.Email)) {
			continue
		}
		if err := m.Send(ctx, to, n.subject, text); err != nil {
			s.log.ErrorContext(ctx, "sending a notification", "kind", e.Kind, "user", e.UserID, "err", err)
		}
	}
}

// noticeText is the body of a notification: what, when, from where, and
// what to do if it was not the user.
func (s *Service) noticeText(u *accountd.User, what string, e *accountd.SecurityEvent) string {
	from := cmpOrDash(e.Address)
	if e.UserAgent != "" {
		from += " (" + e.UserAgent + ")"
	}
	base := strings.TrimRight(s.cfg.Security.PublicURL, "/") + consolePath
	return fmt.Sprintf(`Hello %s,

%s

When: %s
From: %s

If this was you, there is nothing to do.

If it was not you, someone else may have access to your account: change
your password at once (%s/security), turn on two-factor authentication,
review your API tokens (%s/tokens) and see what else happened in your
security log (%s/security-log).
`, displayName(u), what, e.At.UTC().Format("2006-01-02 15:04:05 UTC"), from, base, base, base)
}

func cmpOrDash(s string) string {
	if s == "" {
		return "an unknown address"
	}
	return s
}

// remindExpiringTokens mails the owners of personal API tokens that expire
// within ExpiryNotice, once per token: the reminder is marked in the
// database before it is sent, so that of instances racing only one sends
// it, and unmarked if sending fails, so that it is tried again.
func (s *Service) remindExpiringTokens(ctx context.Context, now time.Time) {
	m := s.cfg.Security.Mailer
	if m == nil {
		return
	}
	cfg := s.cfg.SecurityLog
	tokens, err := s.store.ExpiringTokens(ctx, accountd.KindAPI, now, now.Add(cfg.ExpiryNotice), 100)
	if err != nil {
		s.log.ErrorContext(ctx, "listing expiring API tokens", "err", err)
		return
	}
	for _, t := range tokens {
		won, err := s.store.ClaimNotice(ctx, t.UserID, noticeTokenExpiring, now, cfg.NoticeEvery)
		if err != nil || !won {
			// another token's reminder went lately: this one waits its turn
			continue
		}
		if won, err := s.store.MarkTokenReminded(ctx, t.ID, now); err != nil || !won {
			continue
		}
		u, err := s.store.User(ctx, t.UserID)
		if err == nil {
			err = m.Send(ctx, u.Email, "A personal API token expires soon", s.expiryText(u, t, now))
		}
		if err != nil {
			s.log.ErrorContext(ctx, "sending an API token expiry reminder", "user", t.UserID, "token", t.ID, "err", err)
			if err := s.store.UnmarkTokenReminded(ctx, t.ID); err != nil {
				s.log.ErrorContext(ctx, "forgetting an unsent expiry reminder", "token", t.ID, "err", err)
			}
		}
	}
}

func (s *Service) expiryText(u *accountd.User, t *accountd.Token, now time.Time) string {
	base := strings.TrimRight(s.cfg.Security.PublicURL, "/") + consolePath
	left := roughDuration(t.ExpiresAt.Sub(now))
	return fmt.Sprintf(`Hello %s,

your personal API token %q (created %s) expires at %s, in about %s.
Whatever uses it will be refused from then on: create a new token
(%s/tokens) and replace it before then.

If it was not you who created this token, delete it now (%s/tokens) and
see what else happened in your security log (%s/security-log).
`, displayName(u), t.Name, t.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"),
		t.ExpiresAt.UTC().Format("2006-01-02 15:04:05 UTC"), left, base, base, base)
}

// roughDuration says d in whole days, or hours under two days.
func roughDuration(d time.Duration) string {
	switch h := int((d + 30*time.Minute) / time.Hour); {
	case h >= 48:
		return fmt.Sprintf("%d days", (h+12)/24)
	case h == 1:
		return "1 hour"
	case h > 1:
		return fmt.Sprintf("%d hours", h)
	}
	return "less than an hour"
}

// RemindExpiringTokens sends the expiry reminders that are due now, as
// housekeeping does every minute (operators and tests).
func (s *Service) RemindExpiringTokens(ctx context.Context) { s.remindExpiringTokens(ctx, s.now()) }
