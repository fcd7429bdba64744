package accountd

import (
	"context"
	"slices"
	"time"
)

// Security log kinds: what happened to an account. The names are stable:
// they go on the wire (GET /me/securityLog), into slog lines and into the
// accountd_security_events_total metric's label.
const (
	SecLoginSucceeded     = "login.succeeded"
	SecLoginFailed        = "login.failed" // Detail["reason"]: password, twoFactorCode, recoveryCode
	SecLoginThrottled     = "login.throttled"
	SecTwoFactorEnabled   = "twoFactor.enabled"
	SecTwoFactorDisabled  = "twoFactor.disabled"
	SecRecoveryCodeUsed   = "recoveryCode.used"
	SecRecoveryCodesNew   = "recoveryCodes.regenerated"
	SecPasswordChanged    = "password.changed"
	SecEmailChanged       = "email.changed" // Detail["from"], Detail["to"]
	SecGithubLinked       = "github.linked"
	SecGithubUnlinked     = "github.unlinked"
	SecTokenCreated       = "token.created"
	SecTokenChanged       = "token.changed"
	SecTokenRevoked       = "token.revoked"
	SecSessionRevoked     = "session.revoked"
	SecInvitationAnswered = "invitation.answered" // Detail["answer"]: accepted, rejected, dismissed
	SecResourcesMoved     = "resources.transferred"
	SecDeleteRefused      = "account.deleteRefused" // Detail["reason"]
)

// SecurityKinds lists every kind, in the order documentation shows them.
var SecurityKinds = []string{
	SecLoginSucceeded, SecLoginFailed, SecLoginThrottled,
	SecTwoFactorEnabled, SecTwoFactorDisabled, SecRecoveryCodeUsed, SecRecoveryCodesNew,
	SecPasswordChanged, SecEmailChanged, SecGithubLinked, SecGithubUnlinked,
	SecTokenCreated, SecTokenChanged, SecTokenRevoked, SecSessionRevoked,
	SecInvitationAnswered, SecResourcesMoved, SecDeleteRefused,
}

// KnownSecurityKind reports whether kind is one of SecurityKinds.
func KnownSecurityKind(kind string) bool { return slices.Contains(SecurityKinds, kind) }

// SecurityEvent is one entry of a user's security log: what happened, when,
// from which client, and the object it concerns. It never holds a secret
// (no token, password or code): Detail carries names and categories only.
type SecurityEvent struct {
	ID         string
	UserID     string
	At         time.Time
	Kind       string
	Address    string // the client's network address ("" when unknown)
	UserAgent  string
	ObjectType string // "apiToken", "session", "organization", "githubAccount", "user", ... ("" for none)
	ObjectID   string
	Detail     map[string]string
}

// SecurityQuery selects a page of a user's log, newest first. Kinds empty
// is every kind; zero Since or Until is unbounded (Since inclusive, Until
// exclusive).
type SecurityQuery struct {
	Kinds        []string
	Since, Until time.Time
	Page         int
	PerPage      int
}

// SecurityLogStore persists the security log, the notification rate limit
// and the expiry reminders of API tokens. Rows belong to a user (or a
// token) and go with it.
type SecurityLogStore interface {
	// AddSecurityEvent writes the entry (e.ID set by the caller). Inside
	// InTx it commits or rolls back with the change it records.
	AddSecurityEvent(ctx context.Context, e *SecurityEvent) error
	// SecurityEvents returns one page of the user's entries, newest first
	// (ties broken by id, also descending), and how many match in all.
	SecurityEvents(ctx context.Context, userID string, q SecurityQuery) ([]*SecurityEvent, int, error)
	// SecurityEventSeen reports whether the user's log holds an entry of
	// kind from address ("" matches any address).
	SecurityEventSeen(ctx context.Context, userID, kind, address string) (bool, error)
	// PruneSecurityEvents removes at most limit entries older than before,
	// oldest first through the time index, and says how many went.
	PruneSecurityEvents(ctx context.Context, before time.Time, limit int) (int, error)

	// ClaimNotice records that a notification of kind goes to the user at
	// at, unless one was recorded after at-every: one atomic statement, so
	// of instances racing for it exactly one wins (true).
	ClaimNotice(ctx context.Context, userID, kind string, at time.Time, every time.Duration) (bool, error)
	// ExpiringTokens lists up to limit active tokens of kind whose expiry is
	// after from and at or before to, and that have no reminder recorded,
	// soonest first.
	ExpiringTokens(ctx context.Context, kind TokenKind, from, to time.Time, limit int) ([]*Token, error)
	// MarkTokenReminded records the token's expiry reminder, once: true for
	// the caller that recorded it, false when one already was.
	MarkTokenReminded(ctx context.Context, tokenID string, at time.Time) (bool, error)
	// UnmarkTokenReminded forgets the token's reminder (one that could not
	// be sent), so that it is tried again.
	UnmarkTokenReminded(ctx context.Context, tokenID string) error
}
