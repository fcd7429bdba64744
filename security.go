package accountd

import (
	"context"
	"time"
)

// TwoFactor is a user's TOTP state. Secrets are sealed (secret.Keyring.Seal)
// before they reach the store, never kept in clear.
type TwoFactor struct {
	UserID    string
	Secret    string // sealed secret in use; "" when two-factor auth is off
	Pending   string // sealed secret generated but not yet enabled; "" for none
	LastStep  int64  // TOTP step of the last code accepted, so none is accepted twice
	UpdatedAt time.Time
}

// Enabled reports whether logins and sensitive changes need a code.
func (t *TwoFactor) Enabled() bool { return t.Secret != "" }

// GithubLink ties a user to one GitHub account; a GitHub account links to
// one user at most.
type GithubLink struct {
	UserID    string
	GithubID  string // GitHub's numeric user id, as text: logins can be renamed
	Login     string
	CreatedAt time.Time
}

// EmailVerification is a pending verification link. Only the hash of the
// link's token is kept; Email is the address the link was sent to, so a
// link for an address the user has since replaced verifies nothing.
type EmailVerification struct {
	TokenHash string
	UserID    string
	Email     string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// SecurityStore persists two-factor state, recovery codes, email
// verification links and GitHub links. Every row belongs to a user and goes
// when the user is deleted.
type SecurityStore interface {
	// TwoFactor returns the user's record; a user who never set up
	// two-factor auth gets an empty one with UserID set.
	TwoFactor(ctx context.Context, userID string) (*TwoFactor, error)
	// PutTwoFactor writes the record, creating it if needed.
	PutTwoFactor(ctx context.Context, t *TwoFactor) error
	// UseTwoFactorStep records step as the user's last accepted TOTP step
	// if it is newer than the one recorded, and reports whether it was.
	// It is one atomic statement, so two requests racing with one code
	// cannot both win.
	UseTwoFactorStep(ctx context.Context, userID string, step int64) (bool, error)

	// RecoveryCodes returns the hashes of the user's unused recovery codes.
	RecoveryCodes(ctx context.Context, userID string) ([]string, error)
	// SetRecoveryCodes replaces the user's recovery codes with hashes
	// (none: remove them all).
	SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error
	// UseRecoveryCode removes the code and reports whether it was there, so
	// a code is accepted once even under concurrent use.
	UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error)

	// PutEmailVerification stores a link, replacing any earlier link of
	// the user, so only the newest works.
	PutEmailVerification(ctx context.Context, v *EmailVerification) error
	// EmailVerification finds a link by its token hash (NotFound if none).
	EmailVerification(ctx context.Context, tokenHash string) (*EmailVerification, error)
	// DeleteEmailVerifications removes the user's link, if any.
	DeleteEmailVerifications(ctx context.Context, userID string) error

	// LinkGithub stores the link, replacing the user's earlier one; a
	// GitHub account already linked to another user is ErrConflict.
	LinkGithub(ctx context.Context, l *GithubLink) error
	// GithubLink returns the user's link (NotFound if none).
	GithubLink(ctx context.Context, userID string) (*GithubLink, error)
	// GithubLinkByGithubID returns the link of a GitHub account (NotFound
	// if none).
	GithubLinkByGithubID(ctx context.Context, githubID string) (*GithubLink, error)
	// UnlinkGithub removes the user's link (NotFound if none).
	UnlinkGithub(ctx context.Context, userID string) error
}
